import assert from "node:assert/strict";
import { test } from "node:test";
import { budgetText, contextSummary, formatTokens } from "../src/logic/context";
import { CheckContextResult, verifyOutcome } from "../src/logic/protocol";
import { statusText, statusTooltip } from "../src/logic/statusText";

function check(overrides: Partial<CheckContextResult>): CheckContextResult {
  return {
    task: "abcdef",
    encoding: "cl100k_base",
    encoding_note: null,
    total_tokens: 1234,
    max_tokens: 8000,
    max_files: 8,
    entries: [
      { entry: "src/a.py", path: "src/a.py", tokens: 1234, status: "ok", line: 3 },
      { entry: "dist/x.js", path: "dist/x.js", tokens: null, status: "ignored", line: 4 },
    ],
    drop: [],
    findings: [],
    ...overrides,
  };
}

test("token counts are short and exact below a thousand", () => {
  assert.equal(formatTokens(999), "999");
  assert.equal(formatTokens(1234), "1.2k");
  assert.equal(formatTokens(12_345), "12k");
  assert.equal(budgetText(1234, 8000), "1.2k/8.0k tokens");
});

test("the summary lists each entry with its tokens and status", () => {
  const summary = contextSummary(check({}));
  assert.equal(summary.passed, true);
  assert.equal(
    summary.title,
    "Context passes: 1.2k/8.0k tokens, 2 of at most 8 files (cl100k_base)",
  );
  assert.deepEqual(summary.lines, ["src/a.py: 1234 tokens", "dist/x.js: not counted (ignored)"]);
});

test("an error finding fails the context and the drop advice is given", () => {
  const summary = contextSummary(
    check({
      findings: [
        {
          code: "HR200",
          severity: "error",
          path: ".handrail/tasks/abcdef.toml",
          line: 3,
          column: 1,
          end_line: null,
          end_column: null,
          message: "Over budget.",
        },
      ],
      drop: ["src/a.py"],
    }),
  );
  assert.equal(summary.passed, false);
  assert.match(summary.title, /^Context does not pass/);
  assert.ok(summary.lines.includes("HR200 error: Over budget."));
  assert.ok(summary.lines.includes("Dropping src/a.py would bring it within the budget."));
});

test("a warning alone does not fail the context", () => {
  const summary = contextSummary(
    check({
      findings: [
        {
          code: "HR201",
          severity: "warning",
          path: "x",
          line: 1,
          column: 1,
          end_line: null,
          end_column: null,
          message: "Many files.",
        },
      ],
    }),
  );
  assert.equal(summary.passed, true);
});

test("the status bar shows task, tokens against budget and each block state", () => {
  const blocks = {
    counts: { unverified: 2 },
    blocking: 2,
    blocks: [
      { block: "a.1", path: "a.py", line: 1, states: ["unverified"], blocking: true, messages: [] },
      { block: "a.2", path: "a.py", line: 9, states: ["unverified"], blocking: true, messages: [] },
    ],
  };
  const state = { task: "k3f7qa", totalTokens: 1500, maxTokens: 8000, blocks };
  assert.equal(
    statusText(state),
    "$(checklist) Handrail · k3f7qa · 1.5k/8.0k tokens · 2 unverified",
  );
  assert.match(
    statusTooltip(state),
    /1500 of 8000 tokens\. Generated blocks: 2 unverified \(2 stop the gate\)/,
  );
});

test("the status bar leaves out what it does not know", () => {
  const none = {
    task: undefined,
    totalTokens: undefined,
    maxTokens: undefined,
    blocks: undefined,
  };
  assert.equal(statusText(none), "$(checklist) Handrail");
  assert.equal(statusTooltip(none), "No active task.");
  const failing = {
    counts: { failing: 1 },
    blocking: 1,
    blocks: [
      { block: "a.1", path: "a.py", line: 1, states: ["failing"], blocking: true, messages: [] },
    ],
  };
  assert.equal(
    statusText({ ...none, task: "k3f7qa", blocks: failing }),
    "$(checklist) Handrail · k3f7qa · 1 failing",
  );
  assert.match(statusTooltip({ ...none, blocks: failing }), /1 failing \(1 stops the gate\)/);
});

test("the verify outcome prefers the server's sentence and is ok only when it ran and passed", () => {
  const base = {
    target: "block k3f7qa.1",
    ok: true,
    trusted: true,
    ran: true,
    cancelled: false,
    runs: [],
    blocks: [],
    findings: [],
    message: "",
    ignored: [],
  };
  assert.deepEqual(verifyOutcome(base), {
    ok: true,
    message: "block k3f7qa.1 passed verification on its current content.",
  });
  assert.deepEqual(
    verifyOutcome({ ...base, ok: false, ran: false, message: "Nothing was run: trust." }),
    {
      ok: false,
      message: "Nothing was run: trust.",
    },
  );
  assert.equal(verifyOutcome({ ...base, ran: false }).ok, false);
  assert.match(verifyOutcome({ ...base, cancelled: true }).message, /cancelled/);
  assert.match(verifyOutcome({ ...base, ok: false }).message, /failed/);
});
