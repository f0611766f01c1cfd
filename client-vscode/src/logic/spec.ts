// What the New AI Task input box says under the draft, from `handrail.validateSpec`.
import { FindingJson, ValidateSpecResult } from "./protocol";
import { plural } from "./plural";

export type MessageSeverity = "error" | "warning" | "info";

export interface SpecMessage {
  message: string;
  severity: MessageSeverity;
}

/** The template the default workflow ships, shown as the input box's placeholder. */
export const DEFAULT_SPEC_TEMPLATE =
  "Given <inputs>, return <outputs>. It must <the constraint that matters> and follow the pattern of <existing code>.";

function firstOf(findings: readonly FindingJson[], severity: string): FindingJson | undefined {
  return findings.find((finding) => finding.severity === severity);
}

/**
 * One message for the draft, or undefined when there is nothing to say. The hard limit comes
 * first because no rewording fixes it: the work itself must be split.
 */
export function specMessage(result: ValidateSpecResult): SpecMessage | undefined {
  if (result.empty) {
    return undefined;
  }
  const sentences = result.sentences.length;
  const count = `${plural(sentences, "sentence")} of ${result.max_sentences}`;
  if (sentences > result.hard_max_sentences) {
    return {
      severity: "error",
      message:
        `${count}: past the hard limit of ${result.hard_max_sentences}. ` +
        "Decompose into smaller tasks, each with its own short spec.",
    };
  }
  const error = firstOf(result.findings, "error");
  if (error !== undefined) {
    return { severity: "error", message: `${count}. ${error.message}` };
  }
  const missing = result.missing.length > 0 ? ` Missing: ${result.missing.join(", ")}.` : "";
  const warning = firstOf(result.findings, "warning");
  if (warning !== undefined) {
    return { severity: "warning", message: `${count}. ${warning.message}${missing}` };
  }
  return {
    severity: "info",
    message: `${count}.${missing} Press Enter to continue.`,
  };
}

/**
 * The spec may go on to the next step only when the server said it is fine and the box shows
 * no error: what the box shows in red always stops Enter (issue 19.8), whatever `ok` says.
 */
export function specAccepted(result: ValidateSpecResult): boolean {
  return (
    result.ok &&
    !result.empty &&
    result.sentences.length <= result.hard_max_sentences &&
    specMessage(result)?.severity !== "error"
  );
}
