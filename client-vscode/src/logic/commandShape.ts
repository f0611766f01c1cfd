// Checks a JSON value against a shape of the command contract (protocol.generated.ts's
// COMMAND_CONTRACT, the same description pytest checks with tests/contract/shapes.py): what is
// missing, extra or of another type, by path. The contract test runs every shared example
// result (tests/contract/commands/) through it.

export type Shape =
  | { readonly type: "string" | "integer" | "number" | "boolean" | "null" | "unknown" }
  | { readonly type: "literal"; readonly value: unknown }
  | { readonly type: "array"; readonly items: Shape }
  | { readonly type: "map"; readonly values: Shape }
  | { readonly type: "union"; readonly of: readonly Shape[] }
  | { readonly type: "ref"; readonly name: string };

export interface FieldShape {
  readonly shape: Shape;
  readonly required: boolean;
}

export type ObjectShapes = Readonly<Record<string, Readonly<Record<string, FieldShape>>>>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function shapeErrors(
  value: unknown,
  shape: Shape,
  objects: ObjectShapes,
  where = "result",
): string[] {
  switch (shape.type) {
    case "unknown":
      return [];
    case "literal":
      return value === shape.value
        ? []
        : [`${where}: ${JSON.stringify(value)} is not ${JSON.stringify(shape.value)}`];
    case "union": {
      const tried = shape.of.map((s) => shapeErrors(value, s, objects, where));
      if (tried.some((errors) => errors.length === 0)) {
        return [];
      }
      return tried.reduce((a, b) => (b.length < a.length ? b : a));
    }
    case "ref": {
      const fields = objects[shape.name];
      if (fields === undefined) {
        return [`${where}: no type ${shape.name} in the contract`];
      }
      if (!isObject(value)) {
        return [`${where}: ${JSON.stringify(value)} is not an object (${shape.name})`];
      }
      const errors = Object.keys(value)
        .filter((key) => !(key in fields))
        .map((key) => `${where}.${key}: not in ${shape.name}`);
      for (const [key, field] of Object.entries(fields)) {
        if (key in value) {
          errors.push(...shapeErrors(value[key], field.shape, objects, `${where}.${key}`));
        } else if (field.required) {
          errors.push(`${where}.${key}: missing (${shape.name})`);
        }
      }
      return errors;
    }
    case "array":
      if (!Array.isArray(value)) {
        return [`${where}: ${JSON.stringify(value)} is not a list`];
      }
      return value.flatMap((item: unknown, index) =>
        shapeErrors(item, shape.items, objects, `${where}[${String(index)}]`),
      );
    case "map":
      if (!isObject(value)) {
        return [`${where}: ${JSON.stringify(value)} is not an object`];
      }
      return Object.entries(value).flatMap(([key, item]) =>
        shapeErrors(item, shape.values, objects, `${where}.${key}`),
      );
    default: {
      const ok = {
        string: typeof value === "string",
        boolean: typeof value === "boolean",
        integer: typeof value === "number" && Number.isInteger(value),
        number: typeof value === "number",
        null: value === null,
      }[shape.type];
      return ok ? [] : [`${where}: ${JSON.stringify(value)} is not of type ${shape.type}`];
    }
  }
}
