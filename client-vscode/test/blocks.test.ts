import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { blockAt, blockSpans, taskOfBlock, taskOfPath } from "../src/logic/blocks";
import { reviewOutcome } from "../src/logic/protocol";

const sample = [
  "import os",
  "# handrail:begin k3f7qa.1",
  "def f():",
  "    # handrail:begin k3f7qa.2",
  "    return 1",
  "    # handrail:end k3f7qa.2",
  "# handrail:end k3f7qa.1",
  "// handrail:begin abcdef.12",
  "x",
].join("\n");

test("pairs of markers make blocks; an unclosed one does not", () => {
  assert.deepEqual(blockSpans(sample), [
    { id: "k3f7qa.2", beginLine: 4, endLine: 6 },
    { id: "k3f7qa.1", beginLine: 2, endLine: 7 },
  ]);
});

test("the innermost block wins", () => {
  assert.equal(blockAt(sample, 5)?.id, "k3f7qa.2");
  assert.equal(blockAt(sample, 3)?.id, "k3f7qa.1");
  assert.equal(blockAt(sample, 7)?.id, "k3f7qa.1");
  assert.equal(blockAt(sample, 1), undefined);
  assert.equal(blockAt(sample, 9), undefined);
});

test("CRLF and CR line endings count lines the same", () => {
  assert.deepEqual(blockSpans(sample.replace(/\n/g, "\r\n")), blockSpans(sample));
  assert.deepEqual(blockSpans(sample.replace(/\n/g, "\r")), blockSpans(sample));
});

test("ids with leading zeros or wrong length are not markers", () => {
  assert.deepEqual(blockSpans("# handrail:begin k3f7qa.01\n# handrail:end k3f7qa.01"), []);
  assert.deepEqual(blockSpans("# handrail:begin k3f7q.1\n# handrail:end k3f7q.1"), []);
});

test("task ids from block ids and task file paths", () => {
  assert.equal(taskOfBlock("k3f7qa.12"), "k3f7qa");
  assert.equal(taskOfPath("/w/.handrail/tasks/k3f7qa.toml"), "k3f7qa");
  assert.equal(taskOfPath("C:\\w\\.handrail\\tasks\\k3f7qa.toml"), "k3f7qa");
  assert.equal(taskOfPath("/w/tasks/k3f7qa.toml"), undefined);
  assert.equal(taskOfPath("/w/.handrail/tasks/k3f7qa.toml.bak"), undefined);
});

const taskId = fc.stringMatching(/^[a-z2-7]{6}$/);
const blockId = fc
  .tuple(taskId, fc.integer({ min: 1, max: 999_999_999 }))
  .map(([t, n]) => `${t}.${n}`);
const plainLine = fc.string({ maxLength: 30 }).filter((s) => !/handrail:|[\r\n]/.test(s));

test("property: a wrapped block is found at every line inside it and nowhere else", () => {
  fc.assert(
    fc.property(
      fc.array(plainLine, { maxLength: 5 }),
      fc.array(plainLine, { maxLength: 5 }),
      fc.array(plainLine, { maxLength: 5 }),
      blockId,
      fc.constantFrom("#", "//", "--", ";;"),
      fc.constantFrom("\n", "\r\n"),
      (before, inside, after, id, comment, eol) => {
        const lines = [
          ...before,
          `${comment} handrail:begin ${id}`,
          ...inside,
          `${comment} handrail:end ${id}`,
          ...after,
        ];
        const text = lines.join(eol);
        const begin = before.length + 1;
        const end = begin + inside.length + 1;
        assert.deepEqual(blockSpans(text), [{ id, beginLine: begin, endLine: end }]);
        for (let line = 1; line <= lines.length; line++) {
          const found = blockAt(text, line);
          assert.equal(found?.id, line >= begin && line <= end ? id : undefined);
        }
        assert.equal(taskOfBlock(id), id.slice(0, 6));
      },
    ),
  );
});

test("property: arbitrary text never throws and spans are well ordered", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (text) => {
      for (const span of blockSpans(text)) {
        assert.ok(span.beginLine < span.endLine);
      }
      blockAt(text, 1);
    }),
  );
});

test("a review names what was recorded and what was refused", () => {
  const bob = "Bob <bob@example.com>";
  const recorded = { block: "k3f7qa.1", path: "a.py", content_hash: "sha256:x", record: "01" };
  assert.deepEqual(
    reviewOutcome({ reviewer: bob, verdict: "approve", recorded: [recorded], refused: [] }),
    { ok: true, message: `recorded ${bob}'s approval of k3f7qa.1.` },
  );
  const refused = { block: "k3f7qa.2", path: "a.py", reason: "you are its author" };
  const mixed = reviewOutcome({
    reviewer: bob,
    verdict: "request_changes",
    recorded: [recorded],
    refused: [refused],
  });
  assert.equal(mixed.ok, false);
  assert.equal(
    mixed.message,
    `recorded ${bob}'s request for changes of k3f7qa.1. k3f7qa.2 not recorded: you are its author.`,
  );
  assert.deepEqual(
    reviewOutcome({ reviewer: bob, verdict: "approve", recorded: [], refused: [] }),
    {
      ok: false,
      message: "nothing was recorded.",
    },
  );
});
