import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ObjectShapes, Shape, shapeErrors } from "../src/logic/commandShape";
import { COMMAND_CONTRACT } from "../src/logic/protocol.generated";

// The shared examples of every server command's result (tests/contract/commands/<command>.json;
// pytest checks the same files against the server's result types). protocol.generated.ts is
// what the extension compiles against: an example it does not describe means the extension's
// types and the server's answers have drifted apart.
interface CommandExample {
  command: string;
  arguments: unknown[];
  result: unknown;
}

// out/test/ at run time: the repository's tests/ folder is three levels up.
const FOLDER = join(__dirname, "..", "..", "..", "tests", "contract", "commands");

const COMMANDS = COMMAND_CONTRACT.commands as Readonly<Record<string, Shape>>;
const OBJECTS = COMMAND_CONTRACT.objects as ObjectShapes;

function examples(): CommandExample[] {
  return readdirSync(FOLDER)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(FOLDER, name), "utf-8")) as CommandExample);
}

test("every command of the contract has a shared example, and only those", () => {
  const named = examples().map((example) => example.command);
  assert.deepEqual([...new Set(named)].sort(), Object.keys(COMMANDS).sort());
});

test("every shared example result has the shape the extension's types give it", () => {
  for (const example of examples()) {
    const shape = COMMANDS[example.command];
    assert.ok(shape !== undefined, example.command);
    assert.deepEqual(shapeErrors(example.result, shape, OBJECTS), [], example.command);
    assert.ok(Array.isArray(example.arguments), example.command);
  }
});

test("a renamed, missing or mistyped field is reported by path", () => {
  const shape: Shape = { type: "ref", name: "DismissInsertionResult" };
  assert.deepEqual(shapeErrors({ dismissed: true }, shape, OBJECTS), []);
  assert.deepEqual(shapeErrors({ removed: true }, shape, OBJECTS), [
    "result.removed: not in DismissInsertionResult",
    "result.dismissed: missing (DismissInsertionResult)",
  ]);
  assert.deepEqual(shapeErrors({ dismissed: 1 }, shape, OBJECTS), [
    "result.dismissed: 1 is not of type boolean",
  ]);
  const list: Shape = {
    type: "array",
    items: { type: "union", of: [{ type: "string" }, { type: "null" }] },
  };
  assert.deepEqual(shapeErrors(["a", null], list, OBJECTS), []);
  assert.deepEqual(shapeErrors(["a", 2], list, OBJECTS).length, 1);
});
