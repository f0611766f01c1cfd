// The extension's side of "Add to Handrail Context": the argument it sends to
// `handrail.editTaskContext` and what it tells the user about the answer. The edit itself is
// the server's, tested in tests/lsp/features/test_context_array.py (layouts, refusals) and
// test_task_context_command_e2e.py (the command, end to end).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  contextEntry,
  contextOutcome,
  EDIT_TASK_CONTEXT,
  editTaskContextArgument,
} from "../src/logic/taskContext";

test("the command is the server's", () => {
  assert.equal(EDIT_TASK_CONTEXT, "handrail.editTaskContext");
});

test("entries are workspace paths with forward slashes", () => {
  assert.equal(contextEntry("src\\pkg\\a.py"), "src/pkg/a.py");
  assert.equal(contextEntry("README.md"), "README.md");
});

test("the argument names the task file and each entry once, in order", () => {
  assert.deepEqual(
    editTaskContextArgument("file:///w/.handrail/tasks/qqpas5.toml", ["b.py", "a.py", "b.py"]),
    { uri: "file:///w/.handrail/tasks/qqpas5.toml", add: ["b.py", "a.py"] },
  );
});

test("an answer with an edit is applied and reported with what was added", () => {
  const outcome = contextOutcome(
    { edit: { changes: {} }, added: ["README.md", "b.py"], removed: [], present: ["a.py"] },
    "qqpas5",
  );
  assert.deepEqual(outcome, {
    kind: "apply",
    message: "Handrail: added README.md, b.py to the context of task qqpas5.",
  });
});

test("an answer without an edit says the files were there already", () => {
  const outcome = contextOutcome(
    { edit: null, added: [], removed: [], present: ["a.py"] },
    "qqpas5",
  );
  assert.deepEqual(outcome, {
    kind: "present",
    message: "Handrail: already in the context of task qqpas5.",
  });
});

test("the argument keeps every distinct entry and nothing else", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 8 }),
      (entries) => {
        const { add } = editTaskContextArgument("file:///t.toml", entries);
        assert.deepEqual(new Set(add), new Set(entries));
        assert.equal(add.length, new Set(entries).size);
        assert.deepEqual(
          add,
          entries.filter((entry, index) => entries.indexOf(entry) === index),
        );
      },
    ),
  );
});
