// The JSON shapes the `handrail.*` server commands return (docs/commands.md). They are
// generated from the server's own result types (protocol.generated.ts, written by
// tests/contract/make_protocol.py and checked current by pytest); this module gives them the
// names the extension uses, and holds what the extension works out from them.

import {
  AcknowledgementJson,
  CandidateJson,
  CandidatesJson,
  ContextReportJson,
  DecomposeJson,
  EditTaskJson,
  FindingJson,
  GeneratedResult,
  GenerateRefusedResult,
  InsertedResult,
  ListedTaskJson,
  ReviewJson,
  TaskStatusJson,
  VerifyAnswerJson,
} from "./protocol.generated";

export type {
  AcknowledgementJson,
  CheckResult,
  CommandName,
  CommandResults,
  ContextEntryJson,
  EditTaskContextResult,
  FindingJson,
  ListTasksResult,
  MarkSelectionResult,
  NewTaskResult,
  PromptResult,
  ValidateSpecResult,
} from "./protocol.generated";

/** `handrail.editTask`: `handrail task edit --json`'s shape (the engine's `EditTaskJson`). */
export type EditTaskResult = EditTaskJson;
/** `handrail.closeTask` / `reopenTask`: `handrail task close|reopen --json`'s shape. */
export type TaskStatusResult = TaskStatusJson;
/** `handrail.decompose`: `handrail task decompose --json`'s shape. */
export type DecomposeResult = DecomposeJson;
/** `handrail.checkContext` (and `handrail context check --json`). */
export type CheckContextResult = ContextReportJson;
export type ContextCandidateJson = CandidateJson;
/** `handrail.contextCandidates`: `truncated` is present (true) when only the first files are listed. */
export type ContextCandidatesResult = CandidatesJson;
/** `handrail.review`: a teammate's verdict recorded per block, or refused with a reason. */
export type ReviewResult = ReviewJson;
/** One task as `handrail.listTasks` reports it (`blocks` when one task was asked for). */
export type TaskJson = ListedTaskJson;
/** `handrail.recordTrace` / `handrail.explain` (and `handrail trace|explain --json`). */
export type TraceResult = AcknowledgementJson;

/** `handrail.verify` / `handrail.verifyAll` (and, without target, message and ignored,
 * `handrail verify --json`): every run, block and probe typed by the server's `VerifyReport`. */
export type VerifyResult = VerifyAnswerJson;

/** What to tell the user after `handrail.verify`: the server's own sentence when it gave one. */
export function verifyOutcome(result: VerifyResult): { ok: boolean; message: string } {
  const ok = result.ok && result.ran && !result.cancelled;
  if (result.message.length > 0) {
    return { ok, message: result.message };
  }
  if (result.cancelled) {
    return { ok, message: `verification of ${result.target} was cancelled; nothing was recorded.` };
  }
  if (!result.ran) {
    return { ok, message: `nothing was run for ${result.target}.` };
  }
  return {
    ok,
    message: ok
      ? `${result.target} passed verification on its current content.`
      : `verification of ${result.target} failed; the block's diagnostic says what to do.`,
  };
}

export function hasError(findings: readonly FindingJson[]): boolean {
  return findings.some((finding) => finding.severity === "error");
}

/** `handrail.insertGenerated`: the code wrapped in markers at a line of an open document. */
export type InsertGeneratedResult = InsertedResult;
/** `handrail.generate`: the generated code inserted and marked, or the gate's refusal. */
export type GenerateResult = GeneratedResult | GenerateRefusedResult;

export function reviewOutcome(result: ReviewResult): { ok: boolean; message: string } {
  const word = result.verdict === "approve" ? "approval" : "request for changes";
  const parts: string[] = [];
  if (result.recorded.length > 0) {
    const blocks = result.recorded.map((r) => r.block).join(", ");
    parts.push(`recorded ${result.reviewer}'s ${word} of ${blocks}.`);
  }
  for (const refused of result.refused) {
    parts.push(`${refused.block} not recorded: ${refused.reason}.`);
  }
  if (parts.length === 0) {
    parts.push("nothing was recorded.");
  }
  return {
    ok: result.refused.length === 0 && result.recorded.length > 0,
    message: parts.join(" "),
  };
}
