import assert from "node:assert/strict";
import { test } from "node:test";
import {
  contextEntry,
  contextMarkdown,
  escapeMarkdown,
  findingLines,
  generateRefusal,
  helpMarkdown,
  isTaskId,
  specRefusal,
  taskFromPrompt,
  withoutRanges,
} from "../src/logic/chat";
import { CheckContextResult, FindingJson, ValidateSpecResult } from "../src/logic/protocol";

function finding(code: string, severity: string, message: string, path = "<spec>"): FindingJson {
  return {
    code,
    severity,
    path,
    line: path === "<spec>" ? null : 3,
    column: null,
    end_line: null,
    end_column: null,
    message,
  };
}

const HARD_LIMIT = finding(
  "HR101",
  "error",
  "The spec has 4 sentences, past the hard limit of 3: decompose the work into smaller tasks.",
);

test("task ids: six characters from a-z and 2-7", () => {
  assert.ok(isTaskId("k3f7qa"));
  assert.ok(!isTaskId("k3f9q"));
  assert.ok(!isTaskId("k3f7qa1"));
  assert.ok(!isTaskId("K3F9QA"));
  assert.ok(!isTaskId("k3f9q8"));
});

test("a command's first word names the task, else the active task", () => {
  assert.equal(taskFromPrompt("vbu2ph", "k3f7qa"), "vbu2ph");
  assert.equal(taskFromPrompt("  vbu2ph please", undefined), "vbu2ph");
  assert.equal(taskFromPrompt("", "k3f7qa"), "k3f7qa");
  assert.equal(taskFromPrompt("the parser", "k3f7qa"), "k3f7qa");
  assert.equal(taskFromPrompt("", undefined), undefined);
});

test("findings show code, severity, message and where", () => {
  assert.deepEqual(
    findingLines([
      HARD_LIMIT,
      finding("HR204", "error", "Secret (AWS key) on line 2.", ".handrail/tasks/k3f7qa.toml"),
    ]),
    [
      "- **HR101** error: The spec has 4 sentences, past the hard limit of 3: decompose the work into smaller tasks\\.",
      "- **HR204** error: Secret \\(AWS key\\) on line 2\\. (\\.handrail/tasks/k3f7qa\\.toml:3)",
    ],
  );
});

test("Markdown in server text is escaped", () => {
  assert.equal(escapeMarkdown("a_b*c`d`"), "a\\_b\\*c\\`d\\`");
});

test("/generate refused: says nothing was sent, lists the findings, says decompose", () => {
  const text = generateRefusal("fourss", [HARD_LIMIT]);
  assert.match(text, /^\*\*Refused: nothing was sent to the model\.\*\*/);
  assert.match(text, /\*\*HR101\*\* error/);
  assert.match(text, /\*\*Decompose\*\*/);
  const other = generateRefusal("k3f7qa", [finding("HR200", "error", "Over budget.")]);
  assert.doesNotMatch(other, /Decompose/);
  assert.match(other, /Fix the findings/);
});

function spec(overrides: Partial<ValidateSpecResult>): ValidateSpecResult {
  return {
    findings: [],
    ok: true,
    sentences: ["One.", "Two."],
    max_sentences: 2,
    hard_max_sentences: 3,
    missing: [],
    placeholders: [],
    is_template: false,
    empty: false,
    ...overrides,
  };
}

test("/task refused past the hard limit: the findings and decompose", () => {
  const text = specRefusal(
    spec({ ok: false, sentences: ["1.", "2.", "3.", "4."], findings: [HARD_LIMIT] }),
  );
  assert.match(text, /does not pass\*\* \(4 sentences; the workflow allows 2, at most 3\)/);
  assert.match(text, /No task was created/);
  assert.match(text, /\*\*Decompose\*\*/);
});

test("/task refused for a missing part: no decompose, the missing parts", () => {
  const text = specRefusal(
    spec({
      ok: false,
      missing: ["outputs"],
      findings: [finding("HR102", "error", "The spec does not say what it returns.")],
    }),
  );
  assert.doesNotMatch(text, /Decompose/);
  assert.match(text, /Missing: outputs\./);
});

function context(overrides: Partial<CheckContextResult>): CheckContextResult {
  return {
    task: "k3f7qa",
    encoding: "cl100k_base",
    encoding_note: null,
    total_tokens: 1234,
    max_tokens: 24000,
    max_files: 12,
    entries: [
      { entry: "src/a.py", path: "src/a.py", tokens: 1234, status: "ok", line: 4 },
      { entry: "big.bin", path: "big.bin", tokens: null, status: "unscannable", line: 5 },
    ],
    drop: [],
    findings: [],
    ...overrides,
  };
}

test("/context: each entry's tokens, the total against the budget, the encoding", () => {
  const text = contextMarkdown(context({}));
  assert.match(text, /\*\*Context of k3f7qa: passes\*\*\. 1,234 of 24,000 tokens \(1\.2k\/24k\)/);
  assert.match(text, /2 of at most 12 files, counted with `cl100k_base`/);
  assert.match(text, /\| src\/a\\\.py \| 1,234 \| ok \|/);
  assert.match(text, /\| big\\\.bin \| not counted \| unscannable \|/);
});

test("/context over budget: does not pass, findings and what to drop", () => {
  const text = contextMarkdown(
    context({
      total_tokens: 30000,
      drop: ["src/a.py"],
      findings: [
        finding("HR200", "error", "6,000 tokens over the budget.", ".handrail/tasks/k3f7qa.toml"),
      ],
      encoding_note: "offline: the bundled cl100k_base",
    }),
  );
  assert.match(text, /does not pass/);
  assert.match(text, /\*\*HR200\*\* error/);
  assert.match(text, /Dropping src\/a\\\.py would bring it within the budget\./);
  assert.match(text, /_offline: the bundled cl100k\\_base_/);
});

test("/context without entries says how to add some", () => {
  assert.match(contextMarkdown(context({ entries: [], total_tokens: 0 })), /no context entries/);
});

test("help lists the commands and the active task", () => {
  const text = helpMarkdown("k3f7qa");
  for (const command of ["/task <spec>", "/context [task]", "/generate [task]"]) {
    assert.ok(text.includes(command), command);
  }
  assert.match(text, /Active task: \*\*k3f7qa\*\*/);
  assert.match(helpMarkdown(undefined), /No active task yet/);
});

test("the spec is the prompt without its #file references", () => {
  const prompt = "Given a text, return #file:a.py its words. It must #file:b.py keep order.";
  const first = prompt.indexOf("#file:a.py");
  const second = prompt.indexOf("#file:b.py");
  assert.equal(
    withoutRanges(prompt, [
      [first, first + "#file:a.py".length],
      [second, second + "#file:b.py".length],
    ]),
    "Given a text, return its words. It must keep order.",
  );
  assert.equal(withoutRanges("  spaced\n out  ", []), "spaced out");
});

test("attached files and ranges become context entries", () => {
  assert.equal(contextEntry("src/a.py"), "src/a.py");
  assert.equal(contextEntry("src\\a.py", 10, 40), "src/a.py#L10-L40");
  assert.equal(contextEntry("src/a.py", 7, 7), "src/a.py#L7");
});
