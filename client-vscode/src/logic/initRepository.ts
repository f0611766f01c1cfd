/**
 * "Handrail: Initialize Repository": the same `handrail init` as in a terminal, run with the
 * program the language server is started with (its last argument `lsp` becomes `init FOLDER
 * --json`), and the sentence that tells what it did.
 */

import * as path from "node:path";

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

/** A folder "Initialize Repository" could set up, and why it is offered. */
export interface InitCandidate {
  root: string;
  reason: string;
  /** It has `.handrail/` already: initialising it changes nothing. */
  alreadySetUp: boolean;
}

/** What the choice needs from the file system (tests pass their own). */
export interface FolderProbe {
  has(folder: string, name: string): boolean;
}

/** The nearest folder at or above `start` with `.git`, else undefined. */
export function nearestGitRoot(start: string, probe: FolderProbe): string | undefined {
  let folder = start;
  for (;;) {
    if (probe.has(folder, ".git")) {
      return folder;
    }
    const parent = path.dirname(folder);
    if (parent === folder) {
      return undefined;
    }
    folder = parent;
  }
}

/**
 * The folders to offer (issue 19.9): the git repository of the file being edited (a nested
 * repository under a folder that has `.handrail/` gets its own), each workspace folder, and
 * the git repository around a workspace folder that is not one itself. Folders not yet set
 * up come first; with more than one, the command asks.
 */
export function initCandidates(
  workspaceFolders: readonly string[],
  activeFile: string | undefined,
  probe: FolderProbe,
): InitCandidate[] {
  const found: { root: string; reason: string }[] = [];
  if (activeFile !== undefined) {
    const root = nearestGitRoot(path.dirname(activeFile), probe);
    if (root !== undefined) {
      found.push({ root, reason: "the git repository of the current file" });
    }
  }
  for (const folder of workspaceFolders) {
    found.push({ root: folder, reason: "workspace folder" });
    const root = nearestGitRoot(folder, probe);
    if (root !== undefined && root !== folder) {
      found.push({ root, reason: `the git repository around ${path.basename(folder)}` });
    }
  }
  const seen = new Set<string>();
  const candidates: InitCandidate[] = [];
  for (const { root, reason } of found) {
    if (!seen.has(root)) {
      seen.add(root);
      candidates.push({ root, reason, alreadySetUp: probe.has(root, ".handrail") });
    }
  }
  // Stable: within each group the order above (the current file's repository first).
  return [
    ...candidates.filter((c) => !c.alreadySetUp),
    ...candidates.filter((c) => c.alreadySetUp),
  ];
}
