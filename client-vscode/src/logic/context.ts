// The texts of the context step and the status bar: tokens against the budget.
import { CheckContextResult, hasError } from "./protocol";
import { plural } from "./plural";

export function formatTokens(tokens: number): string {
  if (tokens >= 10_000) {
    return `${(tokens / 1000).toFixed(0)}k`;
  }
  if (tokens >= 1000) {
    return `${(tokens / 1000).toFixed(1)}k`;
  }
  return String(tokens);
}

export function budgetText(total: number, max: number): string {
  return `${formatTokens(total)}/${formatTokens(max)} tokens`;
}

export interface ContextSummary {
  passed: boolean;
  title: string;
  lines: string[];
}

/** A plain summary of `handrail.checkContext`, one line per entry then one per finding. */
export function contextSummary(result: CheckContextResult): ContextSummary {
  const passed = !hasError(result.findings);
  const files = result.entries.length;
  const title =
    `${passed ? "Context passes" : "Context does not pass"}: ` +
    `${budgetText(result.total_tokens, result.max_tokens)}, ` +
    `${files} of at most ${result.max_files} files (${result.encoding})`;
  const lines = result.entries.map((entry) => {
    const tokens = entry.tokens === null ? "not counted" : plural(entry.tokens, "token");
    const status = entry.status === "ok" ? "" : ` (${entry.status})`;
    return `${entry.entry}: ${tokens}${status}`;
  });
  for (const finding of result.findings) {
    lines.push(`${finding.code} ${finding.severity}: ${finding.message}`);
  }
  if (result.drop.length > 0) {
    lines.push(`Dropping ${result.drop.join(", ")} would bring it within the budget.`);
  }
  return { passed, title, lines };
}
