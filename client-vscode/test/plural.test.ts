import assert from "node:assert/strict";
import { test } from "node:test";
import { blocksStatusPart, blocksTooltip } from "../src/logic/blockStates";
import { blocksInState, plural } from "../src/logic/plural";

test("one is singular, two is plural", () => {
  assert.equal(plural(1, "line"), "1 line");
  assert.equal(plural(2, "line"), "2 lines");
  assert.equal(plural(0, "entry", "entries"), "0 entries");
});

test("block counts read right for one and for two blocks", () => {
  assert.equal(blocksInState(1, "lines no test ran"), "1 block with lines no test ran");
  assert.equal(blocksInState(2, "lines no test ran"), "2 blocks with lines no test ran");
  assert.equal(blocksInState(1, "needs trace"), "1 needs trace");
  assert.equal(blocksInState(2, "needs trace"), "2 need trace");
  assert.equal(blocksInState(1, "tests catch no mutant"), "1 block whose tests catch no mutant");
  assert.equal(blocksInState(2, "failing"), "2 failing");
});

test("the status bar never says '1 lines no test ran'", () => {
  const one = { counts: { "lines no test ran": 1 }, blocking: 0, blocks: [] };
  assert.equal(blocksStatusPart(one), "1 block with lines no test ran");
  const two = { counts: { failing: 1, "needs review": 2 }, blocking: 1, blocks: [] };
  assert.equal(blocksStatusPart(two), "1 failing · 2 need review");
  const block = { block: "k3f7qa.1", path: "a.py", line: 2, blocking: false, messages: [] };
  const tooltip = blocksTooltip({ ...one, blocks: [{ ...block, states: ["lines no test ran"] }] });
  assert.match(tooltip, /^Generated blocks: 1 block with lines no test ran \(none stops/);
});
