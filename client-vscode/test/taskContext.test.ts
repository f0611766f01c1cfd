import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { addContextEntry, scanContextArray } from "../src/logic/taskContext";

const TASK = `# Handrail task: edit the spec and the context freely.
id = "qqpas5"
spec = '''
Given a text, return its longest word.'''
context = [
    "src/wordcount.py",
    ".env",
]
created = 2026-11-25T17:12:13Z
`;

function added(text: string, entry: string): string {
  const result = addContextEntry(text, entry);
  if (result.kind !== "added") {
    assert.fail(`not added: ${JSON.stringify(result)}`);
  }
  return result.text;
}

test("a new entry goes on its own line before the closing bracket", () => {
  assert.equal(
    added(TASK, "tests/test_wordcount.py"),
    TASK.replace('    ".env",\n', '    ".env",\n    "tests/test_wordcount.py",\n'),
  );
});

test("a last value without a trailing comma gets one", () => {
  const text = 'context = [\n  "a",\n  "b"\n]\n';
  assert.equal(added(text, "c"), 'context = [\n  "a",\n  "b",\n  "c"\n]\n');
});

test("one-line and empty arrays", () => {
  assert.equal(added('context = ["a", "b"]\n', "c"), 'context = ["a", "b", "c"]\n');
  assert.equal(added("context = []\n", "a"), 'context = ["a"]\n');
  assert.equal(added("context = [\n]\n", "a"), 'context = [\n    "a",\n]\n');
});

test("a file without context gets one at its end", () => {
  assert.equal(added('id = "x"', "a"), 'id = "x"\ncontext = [\n    "a",\n]\n');
  assert.equal(added('id = "x"\r\n', "a"), 'id = "x"\r\ncontext = [\r\n    "a",\r\n]\r\n');
});

test("an entry already present is not added twice", () => {
  assert.deepEqual(addContextEntry(TASK, ".env"), { kind: "present" });
});

test("literal strings, comments and escapes are read", () => {
  const text =
    "context = [ # what the model sees\n  'lit/a.py', # the one to change\n  \"b\\\\c.py\",\n]\n";
  assert.deepEqual(scanContextArray(text)?.values, ["lit/a.py", "b\\c.py"]);
  assert.deepEqual(scanContextArray(added(text, "d"))?.values, ["lit/a.py", "b\\c.py", "d"]);
});

test("an array that is not a plain list of strings is refused, not rewritten", () => {
  for (const text of [
    "context = [1, 2]\n",
    'context = ["a" "b"]\n',
    'context = ["a",,]\n',
    'context = ["a"\n',
  ]) {
    assert.equal(addContextEntry(text, "x").kind, "unreadable", text);
  }
});

const entry = fc.string({ minLength: 1, maxLength: 20 });
const layout = fc.record({
  multiline: fc.boolean(),
  trailingComma: fc.boolean(),
  indent: fc.constantFrom("", "  ", "    ", "\t"),
  comment: fc.boolean(),
  literal: fc.boolean(),
  eol: fc.constantFrom("\n", "\r\n"),
});

interface Shape {
  multiline: boolean;
  trailingComma: boolean;
  indent: string;
  comment: boolean;
  literal: boolean;
  eol: string;
}

function render(values: string[], shape: Shape): string {
  const quote = (value: string): string =>
    shape.literal && !/['\n\r]/.test(value) ? `'${value}'` : JSON.stringify(value);
  if (!shape.multiline) {
    return `context = [${values.map(quote).join(", ")}]`;
  }
  const lines = values.map((value, index) => {
    const comma = index < values.length - 1 || shape.trailingComma ? "," : "";
    return `${shape.indent}${quote(value)}${comma}${shape.comment ? " # why" : ""}`;
  });
  return ["context = [", ...lines, "]"].join(shape.eol);
}

test("property: the new entry is appended, the rest of the file is untouched", () => {
  fc.assert(
    fc.property(fc.uniqueArray(entry, { maxLength: 6 }), entry, layout, (values, extra, shape) => {
      fc.pre(!values.includes(extra));
      const head = `id = "abcdef"${shape.eol}spec = "Given x, return y."${shape.eol}`;
      const tail = `${shape.eol}created = 2026-11-25T17:12:13Z${shape.eol}`;
      const text = head + render(values, shape) + tail;
      assert.deepEqual(scanContextArray(text)?.values, values);
      const next = added(text, extra);
      assert.ok(next.startsWith(head));
      assert.ok(next.endsWith(tail));
      assert.deepEqual(scanContextArray(next)?.values, [...values, extra]);
      assert.deepEqual(addContextEntry(next, extra), { kind: "present" });
    }),
  );
});
