import assert from "node:assert/strict";
import { test } from "node:test";
import { ListTasksResult, TaskJson } from "../src/logic/protocol";
import {
  CLOSE_CHOICES,
  contextLine,
  editOutcome,
  keptDrafts,
  offersDecompose,
  parseContextLine,
  replaceableBlock,
  statusOutcome,
  taskPickItems,
} from "../src/logic/tasks";

function task(id: string, status: TaskJson["status"], note: string | null = null): TaskJson {
  return {
    task: id,
    path: `.handrail/tasks/${id}.toml`,
    status,
    title: `Spec of ${id}`,
    uri: `file:///ws/.handrail/tasks/${id}.toml`,
    spec: `Spec of ${id}.`,
    spec_hash: "sha256:0",
    context: ["src/a.py", "src/b.py#L1-L4"],
    verify: null,
    risk: null,
    author: null,
    created: null,
    note,
    closed_at: status === "open" ? null : "2026-12-05T14:00:00+00:00",
    parent: null,
    decomposed: false,
    spec_history: [],
  };
}

const LISTED: ListTasksResult = {
  tasks: [task("aaaaaa", "open"), task("bbbbbb", "done", "merged"), task("cccccc", "abandoned")],
  closed_hidden: 0,
  findings: [],
};

test("pickers that start work never offer a closed task or a decomposed parent", () => {
  assert.deepEqual(
    taskPickItems(LISTED, "open").map((item) => item.task),
    ["aaaaaa"],
  );
  const parent = { ...task("dddddd", "open"), decomposed: true };
  const listed = { tasks: [...LISTED.tasks, parent], closed_hidden: 0, findings: [] };
  assert.deepEqual(
    taskPickItems(listed, "open").map((item) => item.task),
    ["aaaaaa"],
  );
});

test("reopen offers closed tasks only, with their status and note", () => {
  const items = taskPickItems(LISTED, "closed");
  assert.deepEqual(
    items.map((item) => item.task),
    ["bbbbbb", "cccccc"],
  );
  assert.deepEqual(
    items.map((item) => [item.description, item.detail]),
    [
      ["done: Spec of bbbbbb", "merged"],
      ["abandoned: Spec of cccccc", undefined],
    ],
  );
});

test("close offers exactly done and abandoned", () => {
  assert.deepEqual(
    CLOSE_CHOICES.map((choice) => choice.reason),
    ["done", "abandoned"],
  );
});

test("a refused edit names its findings; a new spec names the re-opened blocks", () => {
  const refused = editOutcome({
    task: "aaaaaa",
    written: false,
    spec_changed: false,
    reopened_blocks: [],
    findings: [
      {
        code: "HR101",
        severity: "error",
        path: "<spec>",
        line: 1,
        column: 1,
        end_line: null,
        end_column: null,
        message: "Decompose.",
      },
    ],
    context_findings: [],
  });
  assert.equal(refused.ok, false);
  assert.match(refused.message, /not changed\. HR101 Decompose\./);
  const reopened = editOutcome({
    task: "aaaaaa",
    written: true,
    spec_changed: true,
    reopened_blocks: ["aaaaaa.1", "aaaaaa.2"],
    findings: [],
    context_findings: [],
  });
  assert.equal(reopened.ok, true);
  assert.match(reopened.message, /HR314\): aaaaaa\.1, aaaaaa\.2\. Verify and explain them/);
  const plain = editOutcome({
    task: "aaaaaa",
    written: true,
    spec_changed: false,
    reopened_blocks: [],
    findings: [],
    context_findings: [],
  });
  assert.equal(plain.message, "task aaaaaa updated.");
});

test("status outcomes", () => {
  assert.equal(
    statusOutcome({ task: "a", status: "done", path: "", parent_done: null, findings: [] }),
    "task a closed (done).",
  );
  assert.equal(
    statusOutcome({ task: "a", status: "open", path: "", parent_done: null, findings: [] }),
    "task a is open again.",
  );
});

test("the context line round-trips", () => {
  const line = contextLine(task("aaaaaa", "open"));
  assert.equal(line, "src/a.py, src/b.py#L1-L4");
  assert.deepEqual(parseContextLine(line), ["src/a.py", "src/b.py#L1-L4"]);
  assert.deepEqual(parseContextLine("  "), []);
});

test("a chat answer may replace the block of its task under the cursor only", () => {
  const text = "x = 1\n# handrail:begin aaaaaa.1\ny = 2\n# handrail:end aaaaaa.1\n";
  assert.equal(replaceableBlock(text, 3, "aaaaaa"), "aaaaaa.1");
  assert.equal(replaceableBlock(text, 3, "bbbbbb"), undefined);
  assert.equal(replaceableBlock(text, 1, "aaaaaa"), undefined);
});

test("decompose is offered past the hard limit only, and blank drafts are dropped", () => {
  const base = {
    findings: [],
    ok: false,
    max_sentences: 2,
    hard_max_sentences: 3,
    missing: [],
    placeholders: [],
    is_template: false,
    empty: false,
  };
  assert.equal(offersDecompose({ ...base, sentences: ["A.", "B.", "C.", "D."] }), true);
  assert.equal(offersDecompose({ ...base, sentences: ["A.", "B.", "C."] }), false);
  assert.deepEqual(keptDrafts([" A. ", "", "  ", "B."]), ["A.", "B."]);
});
