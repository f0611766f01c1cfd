import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ALL_VERIFIED,
  BlockStatesJson,
  blockItems,
  blocksListTitle,
  blocksStatusPart,
  blocksSummaryMessage,
  blocksTooltip,
} from "../src/logic/blockStates";

const failing: BlockStatesJson = {
  counts: { failing: 1, unverified: 2 },
  blocking: 3,
  blocks: [
    {
      block: "k3f7qa.1",
      path: "src/a.py",
      line: 3,
      states: ["failing"],
      blocking: true,
      messages: [
        "The latest verification of k3f7qa.1 in src/a.py failed: `npm test` exited with code 254.",
      ],
    },
    {
      block: "k3f7qa.2",
      path: "src/b.py",
      line: 1,
      states: ["unverified"],
      blocking: true,
      messages: ["x"],
    },
    {
      block: "k3f7qa.3",
      path: "src/c.py",
      line: 1,
      states: ["unverified"],
      blocking: true,
      messages: ["y"],
    },
  ],
};

test("a failing block is counted as failing, never as '0 unverified'", () => {
  assert.equal(blocksStatusPart(failing), "1 failing · 2 unverified");
  assert.equal(
    blocksTooltip(failing),
    "Generated blocks: 1 failing, 2 unverified (3 stop the gate); click to list them.",
  );
  assert.equal(blocksSummaryMessage(failing), undefined);
  assert.equal(
    blocksListTitle(failing),
    "Generated blocks that need work: 1 failing, 2 unverified",
  );
  const items = blockItems(failing);
  assert.deepEqual(
    items.map((i) => [i.label, i.description]),
    [
      ["$(error) k3f7qa.1", "failing · src/a.py:3"],
      ["$(error) k3f7qa.2", "unverified · src/b.py:1"],
      ["$(error) k3f7qa.3", "unverified · src/c.py:1"],
    ],
  );
  assert.match(items[0]?.detail ?? "", /exited with code 254/);
});

test("the all-clear is said only when the gate reports nothing on any block", () => {
  const none: BlockStatesJson = { counts: {}, blocking: 0, blocks: [] };
  assert.equal(blocksSummaryMessage(none), ALL_VERIFIED);
  assert.equal(blocksStatusPart(none), "$(pass) blocks");
  const explained: BlockStatesJson = {
    counts: { "needs explanation": 1 },
    blocking: 1,
    blocks: [
      {
        block: "a.1",
        path: "a.py",
        line: 1,
        states: ["needs explanation"],
        blocking: true,
        messages: [],
      },
    ],
  };
  assert.equal(blocksSummaryMessage(explained), undefined);
  assert.equal(blocksStatusPart(explained), "1 needs explanation");
});

test("more than two states are summed up, warnings do not stop the gate", () => {
  const many: BlockStatesJson = {
    counts: { failing: 1, unverified: 1, "needs trace": 1, "tests catch no mutant": 1 },
    blocking: 0,
    blocks: [],
  };
  assert.equal(blocksStatusPart(many), "1 failing · 1 unverified · +2 more");
  const warned: BlockStatesJson = {
    counts: { "tests catch no mutant": 1 },
    blocking: 0,
    blocks: [
      {
        block: "a.1",
        path: "a.py",
        line: 1,
        states: ["tests catch no mutant"],
        blocking: false,
        messages: [],
      },
    ],
  };
  assert.match(blocksTooltip(warned), /none stops the gate/);
  assert.equal(
    blocksListTitle(warned),
    "Generated blocks with warnings: 1 block whose tests catch no mutant",
  );
  assert.equal(blockItems(warned)[0]?.label, "$(warning) a.1");
});
