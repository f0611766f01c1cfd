// The JSON shapes the `handrail.*` server commands return (docs/commands.md), as far as the
// extension reads them. Everything else in a result is passed through untouched.

import { BlockStatesJson } from "./blockStates";
import { VerifyRunJson } from "./verifyOutput";

export interface FindingJson {
  code: string;
  severity: string;
  path: string;
  line: number | null;
  column: number | null;
  end_line: number | null;
  end_column: number | null;
  message: string;
}

export interface ValidateSpecResult {
  findings: FindingJson[];
  ok: boolean;
  /** The draft's sentences, as the server split them. */
  sentences: string[];
  max_sentences: number;
  hard_max_sentences: number;
  missing: string[];
  placeholders: string[];
  is_template: boolean;
  empty: boolean;
}

export interface NewTaskResult {
  task: string | null;
  path: string;
  uri: string;
  template: boolean;
  shown?: boolean;
  findings: FindingJson[];
}

/** `handrail.editTaskContext`: `edit` is an LSP WorkspaceEdit for the client to apply. */
export interface EditTaskContextResult {
  edit: unknown;
  added: string[];
  removed: string[];
  present: string[];
}

export interface ContextEntryJson {
  entry: string;
  path: string | null;
  tokens: number | null;
  status: string;
  line: number | null;
}

export interface CheckContextResult {
  task: string;
  encoding: string;
  encoding_note: string | null;
  total_tokens: number;
  max_tokens: number;
  max_files: number;
  entries: ContextEntryJson[];
  drop: string[];
  findings: FindingJson[];
}

export interface ContextCandidateJson {
  path: string;
  /** null when the file is not counted (too large, binary, unreadable). */
  tokens: number | null;
  status: string;
}

export interface ContextCandidatesResult {
  encoding: string;
  max_tokens: number;
  max_files: number;
  files: ContextCandidateJson[];
  /** Present (true) when the server listed only the first files. */
  truncated?: boolean;
}

export interface PromptResult {
  task: string;
  refused: boolean;
  prompt: string | null;
  temperature: number | null;
  findings: FindingJson[];
}

export interface CheckResult {
  findings: FindingJson[];
  files_checked: number;
  workflow_invalid: boolean;
  errors: number;
  /** Each block's state from the same findings (`handrail.ledger.states`). */
  blocks: BlockStatesJson;
}

export interface MarkSelectionResult {
  applied: boolean;
  block: string | null;
  task: string | null;
  path: string;
  begin_line: number | null;
  end_line: number | null;
  reason?: string;
  task_uri?: string;
  shown?: boolean;
}

export interface VerifyResult {
  target: string;
  ok: boolean;
  trusted: boolean;
  ran: boolean;
  cancelled: boolean;
  findings: FindingJson[];
  message?: string | null;
  /** Each command that ran (`output_tail`, and for a failure `cause`, `advice`, `first_failure`). */
  runs?: VerifyRunJson[];
}

/** What to tell the user after `handrail.verify`: the server's own sentence when it gave one. */
export function verifyOutcome(result: VerifyResult): { ok: boolean; message: string } {
  const ok = result.ok && result.ran && !result.cancelled;
  if (result.message !== undefined && result.message !== null && result.message.length > 0) {
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
export interface InsertGeneratedResult {
  applied: boolean;
  block: string | null;
  task: string | null;
  path: string;
  begin_line: number | null;
  end_line: number | null;
  reason?: string;
}

/** `handrail.review`: a teammate's verdict recorded per block, or refused with a reason. */
export interface ReviewResult {
  reviewer: string;
  verdict: "approve" | "request_changes";
  recorded: { block: string; path: string; content_hash: string; record: string }[];
  refused: { block: string; path: string; reason: string }[];
}

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

/** One task as `handrail.listTasks` reports it. */
export interface TaskJson {
  task: string;
  path: string;
  uri?: string;
  status: "open" | "done" | "abandoned";
  title: string;
  spec: string;
  context: string[];
  verify: string | null;
  note: string | null;
  closed_at: string | null;
  parent?: string | null;
  decomposed?: boolean;
  /** Edits made with Edit Task (the spec they replaced), then a hand edit of the TOML, which
   * has no earlier spec and no date of its own: `first_seen` bounds it. */
  spec_history: (
    | { spec: string; replaced: string; by_hand?: false }
    | { spec: null; replaced: null; by_hand: true; first_seen: string }
  )[];
  blocks?: string[];
}

export interface ListTasksResult {
  tasks: TaskJson[];
  closed_hidden: number;
}

export interface EditTaskResult {
  task: string;
  written: boolean;
  spec_changed: boolean;
  reopened_blocks: string[];
  findings: FindingJson[];
}

export interface TaskStatusResult {
  task: string;
  status: "open" | "done" | "abandoned";
  path: string;
}

export interface DecomposeResult {
  drafts: string[];
  parent: string | null;
  children: string[];
  findings: FindingJson[][];
}
