import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { codeBlocks, extractCode } from "../src/logic/extract";

test("the code of a fenced block, without the fences", () => {
  const answer = "Here it is:\n\n```python\ndef f():\n    return 1\n```\n\nDone.";
  assert.equal(extractCode(answer), "def f():\n    return 1\n");
  assert.deepEqual(codeBlocks(answer), [
    { language: "python", code: "def f():\n    return 1\n", line: 3, closed: true },
  ]);
});

test("an answer without a fence has no code, nor one whose blocks are blank", () => {
  assert.equal(extractCode("def f():\n    return 1\n"), undefined);
  assert.equal(extractCode("```\n\n   \n```"), undefined);
  assert.equal(extractCode(""), undefined);
});

test("tildes, longer fences and an unclosed fence", () => {
  assert.equal(extractCode("~~~\na\n~~~\n"), "a\n");
  // A shorter run of the same character does not close a longer fence.
  assert.equal(extractCode("````\n```\nb\n````"), "```\nb\n");
  // Backticks do not close a tilde fence.
  assert.equal(extractCode("~~~\n```\nc\n~~~"), "```\nc\n");
  const open = codeBlocks("```js\nx = 1\ny = 2");
  assert.deepEqual(open, [{ language: "js", code: "x = 1\ny = 2\n", line: 1, closed: false }]);
});

test("a fence's indentation is removed from its lines; four spaces are no fence", () => {
  assert.equal(extractCode("  ```\n    a\n  b\nc\n  ```"), "  a\nb\nc\n");
  assert.equal(extractCode("    ```\n    a\n    ```"), undefined);
});

test("a backtick fence whose info string holds a backtick is prose", () => {
  assert.equal(extractCode("``` a`b\nx\n```"), undefined);
});

test("a closing fence with text after it does not close", () => {
  assert.equal(extractCode("```\na\n``` not yet\nb\n```"), "a\n``` not yet\nb\n");
});

test("CRLF answers give LF code", () => {
  assert.equal(extractCode("```py\r\na = 1\r\nb = 2\r\n```\r\n"), "a = 1\nb = 2\n");
});

test("the file's language wins over a longer block in another language", () => {
  const answer = [
    "```bash",
    "pip install x",
    "pip install y",
    "pip install z",
    "```",
    "```python",
    "import x",
    "```",
  ].join("\n");
  assert.equal(extractCode(answer, "/w/src/a.py"), "import x\n");
  // Without a target file the longest block wins.
  assert.equal(extractCode(answer), "pip install x\npip install y\npip install z\n");
  // An untagged block beats a block in another language.
  assert.equal(extractCode("```sh\nls\nls\n```\n```\nplain\n```", "a.py"), "plain\n");
  // No block in the file's language, none untagged: the longest.
  assert.equal(extractCode("```sh\nls\nls\n```\n```js\nx\n```", "a.py"), "ls\nls\n");
});

test("among equally long blocks, the first wins", () => {
  assert.equal(extractCode("```\na\n```\n```\nb\n```"), "a\n");
});

const codeLine = fc
  .string({ maxLength: 20 })
  .filter((line) => !/[\r\n]/.test(line) && !/^ {0,3}(`{3,}|~{3,})/.test(line));
const prose = fc.array(
  codeLine.filter((line) => line.trim().length > 0),
  { maxLength: 3 },
);

test("property: code wrapped in a fence between prose comes back unchanged", () => {
  fc.assert(
    fc.property(
      prose,
      fc
        .array(codeLine, { minLength: 1, maxLength: 8 })
        .filter((lines) => lines.some((line) => line.trim().length > 0)),
      prose,
      fc.constantFrom("```", "````", "~~~"),
      fc.constantFrom("", "python", "ts"),
      fc.constantFrom("\n", "\r\n"),
      (before, code, after, fence, language, eol) => {
        const answer = [...before, "", fence + language, ...code, fence, "", ...after].join(eol);
        assert.equal(extractCode(answer), code.map((line) => line + "\n").join(""));
      },
    ),
  );
});

test("property: prose without fences never yields code", () => {
  fc.assert(
    fc.property(fc.array(codeLine, { maxLength: 10 }), (lines) => {
      assert.equal(extractCode(lines.join("\n")), undefined);
    }),
  );
});

test("property: the extracted code is always one of the blocks, ending with a newline", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (answer) => {
      const code = extractCode(answer);
      if (code !== undefined) {
        assert.ok(codeBlocks(answer).some((block) => block.code === code));
        assert.ok(code.endsWith("\n"));
        assert.ok(code.trim().length > 0);
      }
    }),
  );
});
