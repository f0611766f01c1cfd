// The texts of the @handrail chat participant and the language model tools, from the JSON the
// server commands return. Pure, so that every wording is unit-tested without VS Code.
import { formatTokens } from "./context";
import { CheckContextResult, FindingJson, ValidateSpecResult, hasError } from "./protocol";

const TASK_ID = /^[a-z2-7]{6}$/;

export function isTaskId(text: string): boolean {
  return TASK_ID.test(text);
}

/** Backslashes and Markdown's special characters escaped, so server text renders as written. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (char) => `\\${char}`);
}

/** One bullet per finding: code, severity and the server's message. */
export function findingLines(findings: readonly FindingJson[]): string[] {
  return findings.map((finding) => {
    const where =
      finding.path.length > 0 && finding.path !== "<spec>"
        ? ` (${escapeMarkdown(finding.path)}${finding.line === null ? "" : `:${finding.line}`})`
        : "";
    return `- **${finding.code}** ${finding.severity}: ${escapeMarkdown(finding.message)}${where}`;
  });
}

/** Whether a finding says the work must be split: HR101 past the hard limit. */
export function saysDecompose(findings: readonly FindingJson[]): boolean {
  return findings.some(
    (finding) =>
      finding.code === "HR101" &&
      finding.severity === "error" &&
      /decompose/i.test(finding.message),
  );
}

/** The answer to `/task <spec>` when the spec does not pass: nothing was created. */
export function specRefusal(result: ValidateSpecResult): string {
  const lines = [
    `**The spec does not pass** (${result.sentences.length} sentence${result.sentences.length === 1 ? "" : "s"}; the workflow allows ${result.max_sentences}, at most ${result.hard_max_sentences}). No task was created.`,
    "",
    ...findingLines(result.findings),
  ];
  if (result.sentences.length > result.hard_max_sentences || saysDecompose(result.findings)) {
    lines.push("", "**Decompose** the work into smaller tasks, each with its own short spec.");
  }
  if (result.missing.length > 0) {
    lines.push("", `Missing: ${result.missing.map(escapeMarkdown).join(", ")}.`);
  }
  return lines.join("\n");
}

/** The warnings of a spec that passed (it may still be improved). */
export function specWarnings(result: ValidateSpecResult): string[] {
  return findingLines(result.findings.filter((finding) => finding.severity !== "error"));
}

/** `/context`: each entry with its tokens, the total against the budget, the encoding, findings. */
export function contextMarkdown(result: CheckContextResult): string {
  const passed = !hasError(result.findings);
  const lines = [
    `**Context of ${result.task}: ${passed ? "passes" : "does not pass"}**. ` +
      `${result.total_tokens.toLocaleString("en-US")} of ${result.max_tokens.toLocaleString("en-US")} tokens ` +
      `(${formatTokens(result.total_tokens)}/${formatTokens(result.max_tokens)}), ` +
      `${result.entries.length} of at most ${result.max_files} files, counted with \`${result.encoding}\`.`,
  ];
  if (result.encoding_note !== null && result.encoding_note.length > 0) {
    lines.push("", `_${escapeMarkdown(result.encoding_note)}_`);
  }
  lines.push("");
  if (result.entries.length === 0) {
    lines.push(
      "The task has no context entries yet: add files with `#file` in `/task`, the task file, or *Add to Handrail Context*.",
    );
  } else {
    lines.push("| entry | tokens | status |", "|---|---:|---|");
    for (const entry of result.entries) {
      const tokens = entry.tokens === null ? "not counted" : entry.tokens.toLocaleString("en-US");
      lines.push(
        `| ${escapeMarkdown(entry.entry)} | ${tokens} | ${escapeMarkdown(entry.status)} |`,
      );
    }
  }
  if (result.findings.length > 0) {
    lines.push("", ...findingLines(result.findings));
  }
  if (result.drop.length > 0) {
    lines.push(
      "",
      `Dropping ${result.drop.map(escapeMarkdown).join(", ")} would bring it within the budget.`,
    );
  }
  return lines.join("\n");
}

/** The answer to `@handrail` without a command. */
export function helpMarkdown(activeTask: string | undefined): string {
  return [
    "Handrail walks a generation through your team's workflow: a checked spec, a checked context, then the model.",
    "",
    "- `/task <spec>`: check a two-sentence spec and create the task (attach context with `#file`); it becomes the active task.",
    "- `/context [task]`: the active task's context, each file's tokens against the budget.",
    "- `/generate [task]`: send the checked prompt pack to the model selected in this chat, at the workflow's temperature; refused while the spec or the context fails. The answer's code can then be inserted as a generated block.",
    "- `/note helped|in-the-way [HRxxx] <sentence>`: note for the next workflow review where the workflow helped or got in the way.",
    "",
    activeTask === undefined
      ? "No active task yet: start with `/task`."
      : `Active task: **${activeTask}**.`,
  ].join("\n");
}

/** The task a command names (its first word, when it is a task id), else the active one. */
export function taskFromPrompt(prompt: string, active: string | undefined): string | undefined {
  const first = prompt.trim().split(/\s+/)[0] ?? "";
  return isTaskId(first) ? first : active;
}

/** The refusal of `/generate`: the gate's findings; nothing was sent. */
export function generateRefusal(task: string, findings: readonly FindingJson[]): string {
  const lines = [
    `**Refused: nothing was sent to the model.** The spec or the context of ${task} does not pass the workflow's checks.`,
    "",
    ...findingLines(findings),
  ];
  if (saysDecompose(findings)) {
    lines.push(
      "",
      "**Decompose** the work into smaller tasks, each with its own short spec (`/task`).",
    );
  } else {
    lines.push(
      "",
      "Fix the findings in the task file (they are also shown there), then run `/generate` again.",
    );
  }
  return lines.join("\n");
}

/** The prompt without the text of its references (`#file:a.py`), spaces collapsed: the spec. */
export function withoutRanges(
  prompt: string,
  ranges: readonly (readonly [number, number])[],
): string {
  let text = prompt;
  for (const [start, end] of [...ranges].sort((a, b) => b[0] - a[0])) {
    text = text.slice(0, start) + text.slice(end);
  }
  return text.replace(/\s+/g, " ").trim();
}

/** A context entry for a workspace-relative path, with a line range when one was attached. */
export function contextEntry(relative: string, startLine?: number, endLine?: number): string {
  const path = relative.replace(/\\/g, "/");
  if (startLine === undefined) {
    return path;
  }
  const end = endLine ?? startLine;
  return end === startLine ? `${path}#L${startLine}` : `${path}#L${startLine}-L${end}`;
}
