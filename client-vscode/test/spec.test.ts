import assert from "node:assert/strict";
import { test } from "node:test";
import { FindingJson, ValidateSpecResult } from "../src/logic/protocol";
import { specAccepted, specMessage } from "../src/logic/spec";

function finding(severity: string, message: string): FindingJson {
  return {
    code: "HR101",
    severity,
    path: "<spec>",
    line: 1,
    column: 1,
    end_line: null,
    end_column: null,
    message,
  };
}

function sentences(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `Sentence ${index + 1}.`);
}

function result(overrides: Partial<ValidateSpecResult>): ValidateSpecResult {
  return {
    findings: [],
    ok: true,
    sentences: sentences(2),
    max_sentences: 2,
    hard_max_sentences: 3,
    missing: [],
    placeholders: [],
    is_template: false,
    empty: false,
    ...overrides,
  };
}

test("past the hard limit the message says to decompose, whatever the findings", () => {
  const message = specMessage(
    result({ sentences: sentences(4), ok: false, findings: [finding("error", "Too long.")] }),
  );
  assert.equal(message?.severity, "error");
  assert.match(message.message, /^4 sentences of 2: past the hard limit of 3\. Decompose/);
  assert.equal(specAccepted(result({ sentences: sentences(4), ok: false })), false);
});

test("the hard limit wins even if the server were to say ok", () => {
  assert.equal(specAccepted(result({ sentences: sentences(4), ok: true })), false);
});

test("an error finding is shown with the sentence count", () => {
  const message = specMessage(
    result({ ok: false, findings: [finding("error", "Fill in <inputs>.")] }),
  );
  assert.deepEqual(message, { severity: "error", message: "2 sentences of 2. Fill in <inputs>." });
});

test("a warning names the missing parts", () => {
  const message = specMessage(
    result({
      sentences: sentences(3),
      findings: [finding("warning", "Three sentences.")],
      missing: ["outputs"],
    }),
  );
  assert.deepEqual(message, {
    severity: "warning",
    message: "3 sentences of 2. Three sentences. Missing: outputs.",
  });
});

test("a good spec says how to go on and is accepted", () => {
  const good = result({ sentences: sentences(1) });
  assert.deepEqual(specMessage(good), {
    severity: "info",
    message: "1 sentence of 2. Press Enter to continue.",
  });
  assert.equal(specAccepted(good), true);
});

test("an empty draft says nothing and is not accepted", () => {
  const empty = result({ empty: true, sentences: sentences(0), ok: false });
  assert.equal(specMessage(empty), undefined);
  assert.equal(specAccepted(empty), false);
});

test("what the box shows as an error always stops Enter, a warning does not", () => {
  // Issue 19.8: "lacks 4 required parts" was shown in red, yet Enter went on.
  const red = result({
    ok: true,
    findings: [finding("error", "The spec does not mention 4 required parts.")],
  });
  assert.equal(specMessage(red)?.severity, "error");
  assert.equal(specAccepted(red), false);
  const yellow = result({
    ok: true,
    missing: ["inputs"],
    findings: [finding("warning", "The spec does not mention a required part: inputs.")],
  });
  assert.equal(specMessage(yellow)?.severity, "warning");
  assert.equal(specAccepted(yellow), true);
});
