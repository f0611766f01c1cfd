import assert from "node:assert/strict";
import { test } from "node:test";
import { blockExtents } from "../src/logic/blockExtent";
import { blockSpans } from "../src/logic/blocks";

const text = [
  "import os",
  "# handrail:begin k3f7qa.1",
  "x = 1",
  "# handrail:end k3f7qa.1",
  "# handrail:begin k3f7qa.2",
  "y = 2",
  "# handrail:end k3f7qa.2",
].join("\n");

test("a block with a finding on its begin marker is drawn as needing work, whole extent", () => {
  assert.deepEqual(blockExtents(blockSpans(text), new Set([1])), {
    needsWork: [{ startLine: 1, endLine: 3 }],
    settled: [{ startLine: 4, endLine: 6 }],
  });
});

test("a finding inside a block, not on its marker, does not colour the block", () => {
  assert.deepEqual(blockExtents(blockSpans(text), new Set([2, 5])).needsWork, []);
});
