// How `handrail lsp` is started: which program, with which arguments, in which folder and with
// which search paths. Pure (the file system comes in as functions) so that the order and every
// trust rule are unit-tested, and the e2e and a real-process test run what it computes.
//
// The repository is attacker-controlled input (RELIABILITY.md §1, issue 16): opening a folder
// must not run its code before trust. Three rules follow.
// 1. Restricted Mode runs no program the workspace contains or chose: no settings (the
//    workspace cannot set them, but the rule is kept as simple as ruff-vscode's), no
//    interpreter from the Python extension (the workspace chooses it: its `.venv`,
//    `python.defaultInterpreterPath`), and no PATH entry inside a workspace folder. What is
//    left is `handrail` from the rest of PATH.
// 2. An interpreter always runs isolated, `python -I -m handrail lsp`: `-I` keeps the current
//    folder and PYTHONPATH off `sys.path` (a repository's own `handrail/`, `pygls/` or
//    `click/` package would otherwise be imported instead of Handrail's) and ignores the
//    PYTHON* variables and the user site.
// 3. The server's working folder is outside every workspace folder, and PATH and PYTHONPATH
//    lose their relative entries (which would name the workspace once a child runs there,
//    e.g. git), and in Restricted Mode also their entries inside a workspace folder.
import * as path from "node:path";

export type LaunchSource = "setting" | "python" | "interpreter" | "path";

export interface LaunchCandidate {
  source: LaunchSource;
  command: string;
  args: string[];
}

/** `-I`: isolated mode (no cwd or script folder on sys.path, no PYTHON* variables, no user site). */
export const INTERPRETER_ARGS: readonly string[] = ["-I", "-m", "handrail", "lsp"];
/** Whether an interpreter has Handrail, asked the way the server will be started. */
export const PROBE_ARGS: readonly string[] = ["-I", "-c", "import handrail"];

export interface LaunchInputs {
  trusted: boolean;
  /** The `handrail.server.command` setting, already split into argv. */
  settingCommand: readonly string[];
  /** The `handrail.server.python` setting: an interpreter that has Handrail. */
  settingPython: string | undefined;
  /** The interpreter the Python extension selected, if any. */
  interpreter: string | undefined;
  /** The PATH of the extension host. */
  pathVariable: string | undefined;
  delimiter: string;
  /** The workspace folders' file-system paths. */
  workspaceFolders: readonly string[];
  isExecutable: (file: string) => boolean;
  /** The real path of a file (symlinks resolved); the path itself when it cannot be resolved. */
  realpath: (file: string) => string;
}

/** The decision with the reasons for every option left out (for the output channel). */
export interface LaunchPlan {
  candidates: LaunchCandidate[];
  skipped: string[];
}

function atOrBelow(folder: string, file: string): boolean {
  const relative = path.relative(path.resolve(folder), path.resolve(file));
  return (
    relative === "" ||
    (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

/**
 * True when `file` is a workspace folder or lies below one, by its own path or by its real
 * path. Its own path matters even when it is a symlink to a system interpreter: a venv's
 * `bin/python` reads the `pyvenv.cfg` and `site-packages` next to it.
 */
export function withinWorkspace(
  folders: readonly string[],
  file: string,
  realpath: (file: string) => string,
): boolean {
  const forms = new Set([file, realpath(file)]);
  const roots = new Set(folders.flatMap((folder) => [folder, realpath(folder)]));
  return [...forms].some((form) => [...roots].some((root) => atOrBelow(root, form)));
}

/**
 * The entries of a PATH-like variable a launch may search: absolute ones only (a relative
 * entry names whatever folder a child runs in), and in Restricted Mode none inside a
 * workspace folder.
 */
export function safeSearchPath(
  value: string | undefined,
  delimiter: string,
  folders: readonly string[],
  trusted: boolean,
  realpath: (file: string) => string,
): string[] {
  return (value ?? "")
    .split(delimiter)
    .filter(
      (dir) =>
        dir.length > 0 &&
        path.isAbsolute(dir) &&
        (trusted || !withinWorkspace(folders, dir, realpath)),
    );
}

/** The first executable named `name` in `dirs`. */
export function findOnPath(
  name: string,
  dirs: readonly string[],
  isExecutable: (file: string) => boolean,
): string | undefined {
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (isExecutable(file)) {
      return file;
    }
  }
  return undefined;
}

/** A program named in a setting as an absolute path: a bare name is looked up on the safe PATH. */
function settingProgram(
  program: string,
  inputs: LaunchInputs,
  dirs: readonly string[],
): string | undefined {
  if (path.isAbsolute(program)) {
    return program;
  }
  if (!program.includes("/") && !program.includes(path.sep)) {
    return findOnPath(program, dirs, inputs.isExecutable);
  }
  // A relative path (`.venv/bin/handrail`): the first workspace folder, as before issue 16.
  // Only reached in a trusted workspace.
  const folder = inputs.workspaceFolders[0];
  return folder === undefined ? undefined : path.resolve(folder, program);
}

/**
 * Where `handrail lsp` may come from, in order: the `handrail.server.command` setting, the
 * `handrail.server.python` setting, the Python extension's interpreter, then `handrail` on
 * PATH. Settings and the Python extension count only in a trusted workspace.
 */
export function launchPlan(inputs: LaunchInputs): LaunchPlan {
  const candidates: LaunchCandidate[] = [];
  const skipped: string[] = [];
  const dirs = safeSearchPath(
    inputs.pathVariable,
    inputs.delimiter,
    inputs.workspaceFolders,
    inputs.trusted,
    inputs.realpath,
  );
  const [program, ...args] = inputs.settingCommand.filter((part) => part.length > 0);
  const python = inputs.settingPython?.trim() ?? "";
  const interpreter = inputs.interpreter ?? "";
  if (!inputs.trusted) {
    if (program !== undefined) skipped.push("handrail.server.command (Restricted Mode)");
    if (python.length > 0) skipped.push("handrail.server.python (Restricted Mode)");
    if (interpreter.length > 0) {
      skipped.push(`the Python extension's interpreter ${interpreter} (Restricted Mode)`);
    }
  } else {
    if (program !== undefined) {
      const command = settingProgram(program, inputs, dirs);
      if (command === undefined) skipped.push(`handrail.server.command: ${program} not found`);
      else candidates.push({ source: "setting", command, args });
    }
    if (python.length > 0) {
      const command = settingProgram(python, inputs, dirs);
      if (command === undefined) skipped.push(`handrail.server.python: ${python} not found`);
      else candidates.push({ source: "python", command, args: [...INTERPRETER_ARGS] });
    }
    if (interpreter.length > 0) {
      if (path.isAbsolute(interpreter)) {
        candidates.push({
          source: "interpreter",
          command: interpreter,
          args: [...INTERPRETER_ARGS],
        });
      } else {
        skipped.push(`the Python extension's interpreter ${interpreter} (not an absolute path)`);
      }
    }
  }
  const onPath = findOnPath("handrail", dirs, inputs.isExecutable);
  if (onPath !== undefined) {
    candidates.push({ source: "path", command: onPath, args: ["lsp"] });
  }
  return { candidates, skipped };
}

export function launchCandidates(inputs: LaunchInputs): LaunchCandidate[] {
  return launchPlan(inputs).candidates;
}

/**
 * The server's working folder: the first of `choices` outside every workspace folder (the
 * extension's storage folder, then the temp folder, then the home folder). Undefined when
 * each of them is inside one (a workspace folder `/`).
 */
export function serverCwd(
  choices: readonly string[],
  folders: readonly string[],
  realpath: (file: string) => string,
): string | undefined {
  return choices.find((dir) => path.isAbsolute(dir) && !withinWorkspace(folders, dir, realpath));
}

/** The variables that are search paths for programs or Python modules. */
const SEARCH_PATHS = new Set(["PATH", "PYTHONPATH"]);

/**
 * The server's environment: the extension host's (the user's, which no workspace setting
 * changes), with PATH and PYTHONPATH reduced to `safeSearchPath`. The server runs git in the
 * workspace folder, so a relative PATH entry such as `.` would otherwise run the
 * repository's own `git`.
 */
export function serverEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  delimiter: string,
  folders: readonly string[],
  trusted: boolean,
  realpath: (file: string) => string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) {
      continue;
    }
    // Windows spells it `Path`.
    out[name] = SEARCH_PATHS.has(name.toUpperCase())
      ? safeSearchPath(value, delimiter, folders, trusted, realpath).join(delimiter)
      : value;
  }
  return out;
}

export function describeCandidate(candidate: LaunchCandidate): string {
  const line = [candidate.command, ...candidate.args].join(" ");
  switch (candidate.source) {
    case "setting":
      return `the handrail.server.command setting (${line})`;
    case "python":
      return `the handrail.server.python setting (${line})`;
    case "interpreter":
      return `the selected Python interpreter (${line})`;
    case "path":
      return `handrail on PATH (${line})`;
  }
}
