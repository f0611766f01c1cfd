import assert from "node:assert/strict";
import { test } from "node:test";
import {
  budgetLine,
  candidateDescription,
  groupDigits,
  selectionTotal,
} from "../src/logic/candidates";

const BUDGET = { encoding: "cl100k_base", max_tokens: 1000, max_files: 2 };

test("digits are grouped in threes", () => {
  assert.equal(groupDigits(0), "0");
  assert.equal(groupDigits(999), "999");
  assert.equal(groupDigits(24000), "24,000");
  assert.equal(groupDigits(1234567), "1,234,567");
});

test("a file shows its tokens, or why it has none", () => {
  assert.equal(candidateDescription({ path: "a.py", tokens: 1234, status: "ok" }), "1,234 tokens");
  assert.equal(candidateDescription({ path: "a.py", tokens: 1, status: "ok" }), "1 token");
  assert.equal(
    candidateDescription({ path: "big.json", tokens: null, status: "too-large" }),
    "too-large, not counted",
  );
});

test("the total adds the counted files and counts the others apart", () => {
  const total = selectionTotal([{ tokens: 300 }, { tokens: null }, { tokens: 200 }], BUDGET);
  assert.deepEqual(total, {
    tokens: 500,
    files: 3,
    uncounted: 1,
    overTokens: false,
    overFiles: true,
  });
});

test("the budget line reads N tokens of MAX and K of MAXF files", () => {
  const empty = selectionTotal([], BUDGET);
  assert.equal(budgetLine(empty, BUDGET), "0 tokens of 1,000 (cl100k_base) · 0 of 2 files");
  const fits = selectionTotal([{ tokens: 400 }, { tokens: 600 }], BUDGET);
  assert.equal(budgetLine(fits, BUDGET), "1,000 tokens of 1,000 (cl100k_base) · 2 of 2 files");
});

test("past the budget the line starts with a warning", () => {
  const over = selectionTotal([{ tokens: 1001 }], BUDGET);
  assert.equal(
    budgetLine(over, BUDGET),
    "$(warning) 1,001 tokens of 1,000 (cl100k_base) · 1 of 2 files: over the budget",
  );
  const tooMany = selectionTotal([{ tokens: 1 }, { tokens: 1 }, { tokens: null }], BUDGET);
  assert.ok(budgetLine(tooMany, BUDGET).startsWith("$(warning) "));
  assert.ok(budgetLine(tooMany, BUDGET).includes("1 not counted"));
});
