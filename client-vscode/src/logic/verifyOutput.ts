/**
 * The output of a failed verification, as the document "Show Output" opens: the command, its
 * exit, what the failure points at (environment, timeout or code) with the advice, the first
 * failing line, then the tail. Before, a failed run showed no output anywhere in the editor.
 */

import { plural } from "./plural";
import type { VerifyRunJson as GeneratedRun } from "./protocol.generated";

/** The fields of a run (`VerifyRunJson`, generated from the server's `VerifyReport`) this
 * module reads: a whole run from the server is one. */
export type VerifyRunJson = Pick<
  GeneratedRun,
  | "task"
  | "command"
  | "exit_code"
  | "passed"
  | "timed_out"
  | "cancelled"
  | "start_error"
  | "output_tail"
  | "cause"
  | "advice"
  | "first_failure"
>;

export function failedRuns(runs: readonly VerifyRunJson[] | undefined): VerifyRunJson[] {
  return (runs ?? []).filter((run) => !run.passed && !run.cancelled);
}

function exitText(run: VerifyRunJson): string {
  if (run.timed_out) return "timed out";
  if (run.start_error !== null) return `could not start: ${run.start_error}`;
  return run.exit_code === null ? "no exit code" : `exited with code ${run.exit_code}`;
}

/** The few words added to the warning: where the failure points. */
export function failureHint(runs: readonly VerifyRunJson[]): string {
  const failed = runs.find((run) => run.cause !== undefined);
  if (failed?.cause === "environment") return " The command could not run here: see the output.";
  if (failed?.cause === "timeout") return " The command timed out: see the output.";
  return "";
}

export function outputDocument(target: string, runs: readonly VerifyRunJson[]): string {
  const parts = [`Handrail: verification of ${target} failed`, ""];
  for (const run of runs) {
    parts.push(`$ ${run.command.join(" ")}    (task ${run.task}, ${exitText(run)})`);
    if (run.cause !== undefined) {
      parts.push(`Points at: ${run.cause}. ${run.advice ?? ""}`.trimEnd());
    }
    if (run.first_failure !== undefined && run.first_failure !== null) {
      parts.push(`First failure: ${run.first_failure}`);
    }
    const tail = run.output_tail ?? [];
    parts.push(
      "",
      tail.length > 0 ? `Last ${plural(tail.length, "line")} of output:` : "No output.",
    );
    parts.push(...tail, "");
  }
  return parts.join("\n");
}
