// Where `handrail lsp` comes from, in the order issue 5 fixes: the user's setting, the Python
// extension's interpreter, then PATH. Pure so that the order and the trust rule are unit-tested.

export type LaunchSource = "setting" | "interpreter" | "path";

export interface LaunchCandidate {
  source: LaunchSource;
  command: string;
  args: string[];
}

export interface LaunchInputs {
  trusted: boolean;
  /** The `handrail.server.command` setting, already split into argv. */
  settingCommand: readonly string[];
  /** The interpreter the Python extension selected, if any. */
  interpreter: string | undefined;
  /** `handrail` found on PATH, if any. */
  onPath: string | undefined;
}

export function launchCandidates(inputs: LaunchInputs): LaunchCandidate[] {
  const candidates: LaunchCandidate[] = [];
  const [command, ...args] = inputs.settingCommand.filter((part) => part.length > 0);
  // The setting has machine scope, but a restricted workspace must not reach any configured
  // binary at all (RELIABILITY.md §1): it is skipped until the user grants trust.
  if (inputs.trusted && command !== undefined) {
    candidates.push({ source: "setting", command, args });
  }
  if (inputs.interpreter !== undefined && inputs.interpreter.length > 0) {
    candidates.push({
      source: "interpreter",
      command: inputs.interpreter,
      args: ["-m", "handrail", "lsp"],
    });
  }
  if (inputs.onPath !== undefined) {
    candidates.push({ source: "path", command: inputs.onPath, args: ["lsp"] });
  }
  return candidates;
}

/** The first executable named `name` in a PATH-like string, checked with `isExecutable`. */
export function findOnPath(
  name: string,
  pathVariable: string | undefined,
  delimiter: string,
  join: (dir: string, file: string) => string,
  isExecutable: (file: string) => boolean,
): string | undefined {
  for (const dir of (pathVariable ?? "").split(delimiter)) {
    if (dir.length === 0) {
      continue;
    }
    const file = join(dir, name);
    if (isExecutable(file)) {
      return file;
    }
  }
  return undefined;
}

export function describeCandidate(candidate: LaunchCandidate): string {
  const line = [candidate.command, ...candidate.args].join(" ");
  switch (candidate.source) {
    case "setting":
      return `the handrail.server.command setting (${line})`;
    case "interpreter":
      return `the selected Python interpreter (${line})`;
    case "path":
      return `handrail on PATH (${line})`;
  }
}
