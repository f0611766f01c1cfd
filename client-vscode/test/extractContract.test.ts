import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CodeBlock, codeBlocks, extractCode } from "../src/logic/extract";

// The cases the server's extraction computes (tests/contract/make_extract_cases.py writes them;
// a pytest test fails when they are stale): this copy of the rules must give the same code for
// every answer, or the chat view would insert other code than `handrail generate`.
interface ExtractCase {
  answer: string;
  path: string | null;
  code: string | null;
  blocks: CodeBlock[];
}

// out/test/ at run time: the repository's tests/ folder is three levels up.
const CASES = join(__dirname, "..", "..", "..", "tests", "contract", "extract_cases.json");

test("every shared case gives the code and the blocks the server computes", () => {
  const cases = JSON.parse(readFileSync(CASES, "utf-8")) as ExtractCase[];
  assert.ok(cases.length > 400);
  for (const [index, c] of cases.entries()) {
    const where = `case ${index}: ${JSON.stringify(c.answer)} for ${String(c.path)}`;
    assert.deepEqual(codeBlocks(c.answer), c.blocks, where);
    assert.equal(extractCode(c.answer, c.path ?? undefined) ?? null, c.code, where);
  }
});
