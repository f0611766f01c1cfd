import assert from "node:assert/strict";
import { test } from "node:test";
import { BLANK_SELECTION, EMPTY_SELECTION, selectedLines } from "../src/logic/selection";

const text = ["import os", "", "def f(x):", "    return x + 1", "   "];
const lineText = (line: number): string => text[line] ?? "";

test("an empty selection asks for one instead of marking the cursor's line", () => {
  const cursor = { line: 2, character: 4 };
  assert.deepEqual(selectedLines(cursor, cursor, lineText), { refusal: EMPTY_SELECTION });
});

test("a selection of blank lines holds no code", () => {
  assert.deepEqual(selectedLines({ line: 1, character: 0 }, { line: 2, character: 0 }, lineText), {
    refusal: BLANK_SELECTION,
  });
  assert.deepEqual(selectedLines({ line: 4, character: 0 }, { line: 4, character: 3 }, lineText), {
    refusal: BLANK_SELECTION,
  });
});

test("a selection ending at column 0 does not take that line", () => {
  assert.deepEqual(selectedLines({ line: 1, character: 0 }, { line: 4, character: 0 }, lineText), {
    startLine: 2,
    endLine: 4,
  });
  assert.deepEqual(selectedLines({ line: 2, character: 1 }, { line: 3, character: 2 }, lineText), {
    startLine: 3,
    endLine: 4,
  });
});
