/**
 * "Handrail: Initialize Repository": the same `handrail init` as in a terminal, run with the
 * program the language server is started with (its last argument `lsp` becomes `init FOLDER
 * --json`), and the sentence that tells what it did.
 */

export function initArgs(serverArgs: readonly string[], folder: string): string[] {
  const base = serverArgs.at(-1) === "lsp" ? serverArgs.slice(0, -1) : [...serverArgs];
  return [...base, "init", folder, "--json"];
}

export interface InitJson {
  root: string;
  created: string[];
  updated: string[];
  unchanged: string[];
}

export function initSummary(result: InitJson): string {
  if (result.created.length === 0 && result.updated.length === 0) {
    return `Handrail was already set up in ${result.root}: nothing changed.`;
  }
  const parts = [
    result.created.length > 0 ? `created ${result.created.join(", ")}` : "",
    result.updated.length > 0 ? `updated ${result.updated.join(", ")}` : "",
  ].filter((part) => part.length > 0);
  return `Handrail initialised ${result.root}: ${parts.join("; ")}. Next: Handrail: New AI Task.`;
}
