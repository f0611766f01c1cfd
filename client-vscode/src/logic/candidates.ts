// The context picker of New AI Task: each file's tokens and the selection against the budget.
import { ContextCandidateJson, ContextCandidatesResult } from "./protocol";

export const CONTEXT_CANDIDATES = "handrail.contextCandidates";

/** 24000 -> "24,000": exact counts, grouped so they read at a glance. */
export function groupDigits(value: number): string {
  const sign = value < 0 ? "-" : "";
  const digits = String(Math.trunc(Math.abs(value)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** What the picker shows next to a file: its tokens, or why it has none. */
export function candidateDescription(file: ContextCandidateJson): string {
  if (file.tokens !== null) {
    return `${groupDigits(file.tokens)} ${file.tokens === 1 ? "token" : "tokens"}`;
  }
  return file.status === "ok" ? "not counted" : `${file.status}, not counted`;
}

export interface SelectionTotal {
  tokens: number;
  files: number;
  /** Selected files without a count (too large, binary): the check will refuse them. */
  uncounted: number;
  overTokens: boolean;
  overFiles: boolean;
}

export function selectionTotal(
  selected: readonly Pick<ContextCandidateJson, "tokens">[],
  budget: Pick<ContextCandidatesResult, "max_tokens" | "max_files">,
): SelectionTotal {
  let tokens = 0;
  let uncounted = 0;
  for (const file of selected) {
    if (file.tokens === null) {
      uncounted += 1;
    } else {
      tokens += file.tokens;
    }
  }
  return {
    tokens,
    files: selected.length,
    uncounted,
    overTokens: tokens > budget.max_tokens,
    overFiles: selected.length > budget.max_files,
  };
}

/** "N tokens of MAX (encoding) · K of MAXF files", with a warning codicon past the budget. */
export function budgetLine(
  total: SelectionTotal,
  budget: Pick<ContextCandidatesResult, "encoding" | "max_tokens" | "max_files">,
): string {
  const over = total.overTokens || total.overFiles;
  const parts = [
    `${groupDigits(total.tokens)} tokens of ${groupDigits(budget.max_tokens)} (${budget.encoding})`,
    `${total.files} of ${budget.max_files} files`,
  ];
  if (total.uncounted > 0) {
    parts.push(`${total.uncounted} not counted`);
  }
  const line = parts.join(" · ");
  return over ? `$(warning) ${line}: over the budget` : line;
}
