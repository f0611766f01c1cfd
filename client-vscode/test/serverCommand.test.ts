import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import {
  INTERPRETER_ARGS,
  LaunchInputs,
  describeCandidate,
  findOnPath,
  launchCandidates,
  launchPlan,
  safeSearchPath,
  serverCwd,
  serverEnvironment,
  withinWorkspace,
} from "../src/logic/serverCommand";

const WORKSPACE = "/home/me/repo";
const noLinks = (file: string): string => file;

/** A machine where `executables` exist; no symlinks unless `links` says so. */
function inputs(overrides: Partial<LaunchInputs> = {}, executables?: string[]): LaunchInputs {
  const present = new Set(
    executables ?? ["/usr/local/bin/handrail", "/opt/handrail/bin/handrail", "/usr/bin/python3"],
  );
  return {
    trusted: true,
    settingCommand: ["/opt/handrail/bin/handrail", "lsp"],
    settingPython: "/opt/handrail/bin/python",
    interpreter: "/usr/bin/python3",
    pathVariable: "/usr/local/bin:/usr/bin",
    delimiter: ":",
    workspaceFolders: [WORKSPACE],
    isExecutable: (file) => present.has(file),
    realpath: noLinks,
    ...overrides,
  };
}

test("trusted: the command setting, the python setting, the interpreter, then PATH", () => {
  const sources = launchCandidates(inputs()).map((candidate) => candidate.source);
  assert.deepEqual(sources, ["setting", "python", "interpreter", "path"]);
});

test("the command setting is split into command and arguments", () => {
  const [first] = launchCandidates(inputs());
  assert.deepEqual(first, {
    source: "setting",
    command: "/opt/handrail/bin/handrail",
    args: ["lsp"],
  });
});

test("every interpreter launch is isolated: python -I -m handrail lsp", () => {
  const candidates = launchCandidates(inputs({ settingCommand: [] }));
  const interpreters = candidates.filter(
    (c) => c.source === "python" || c.source === "interpreter",
  );
  assert.equal(interpreters.length, 2);
  for (const candidate of interpreters) {
    assert.deepEqual(candidate.args, ["-I", "-m", "handrail", "lsp"]);
  }
  assert.deepEqual(INTERPRETER_ARGS, ["-I", "-m", "handrail", "lsp"]);
});

test("Restricted Mode runs only handrail from PATH: no setting, no interpreter", () => {
  const plan = launchPlan(inputs({ trusted: false }));
  assert.deepEqual(plan.candidates, [
    { source: "path", command: "/usr/local/bin/handrail", args: ["lsp"] },
  ]);
  assert.equal(plan.skipped.length, 3);
  assert.ok(plan.skipped.every((reason) => reason.includes("Restricted Mode")));
});

test("Restricted Mode never takes handrail from a PATH entry inside a workspace folder", () => {
  const planted = `${WORKSPACE}/.venv/bin/handrail`;
  const candidates = launchCandidates(
    inputs({ trusted: false, pathVariable: `${WORKSPACE}/.venv/bin:/usr/local/bin` }, [
      planted,
      "/usr/local/bin/handrail",
    ]),
  );
  assert.deepEqual(
    candidates.map((c) => c.command),
    ["/usr/local/bin/handrail"],
  );
  // Trusted, the same entry is the user's own venv and is used.
  const trusted = launchCandidates(
    inputs(
      {
        settingCommand: [],
        settingPython: "",
        interpreter: undefined,
        pathVariable: `${WORKSPACE}/.venv/bin:/usr/local/bin`,
      },
      [planted, "/usr/local/bin/handrail"],
    ),
  );
  assert.equal(trusted[0]?.command, planted);
});

test("a PATH entry that is a symlink into the workspace counts as inside", () => {
  const realpath = (file: string): string => file.replace("/tmp/link", `${WORKSPACE}/bin`);
  const candidates = launchCandidates(
    inputs({ trusted: false, pathVariable: "/tmp/link", realpath }, ["/tmp/link/handrail"]),
  );
  assert.deepEqual(candidates, []);
});

test("relative PATH entries are never searched, trusted or not", () => {
  for (const trusted of [true, false]) {
    const candidates = launchCandidates(
      inputs(
        {
          trusted,
          settingCommand: [],
          settingPython: "",
          interpreter: undefined,
          pathVariable: ".::bin:/usr/local/bin",
        },
        ["handrail", "bin/handrail", "/usr/local/bin/handrail"],
      ),
    );
    assert.deepEqual(
      candidates.map((c) => c.command),
      ["/usr/local/bin/handrail"],
    );
  }
});

test("the Python extension's interpreter inside the workspace is used only when trusted", () => {
  const venv = `${WORKSPACE}/.venv/bin/python`;
  const untrusted = launchCandidates(inputs({ trusted: false, interpreter: venv }));
  assert.ok(untrusted.every((c) => !c.command.startsWith(WORKSPACE)));
  const trusted = launchCandidates(
    inputs({ settingCommand: [], settingPython: "", interpreter: venv }),
  );
  assert.deepEqual(trusted[0], {
    source: "interpreter",
    command: venv,
    args: [...INTERPRETER_ARGS],
  });
});

test("a bare program name in a setting is looked up on the safe PATH only", () => {
  const candidates = launchCandidates(
    inputs(
      {
        settingCommand: ["handrail", "lsp"],
        settingPython: "",
        interpreter: undefined,
        pathVariable: ".:/usr/local/bin",
      },
      ["handrail", "/usr/local/bin/handrail"],
    ),
  );
  assert.equal(candidates[0]?.command, "/usr/local/bin/handrail");
  const missing = launchPlan(
    inputs({ settingCommand: ["nothere"], settingPython: "", interpreter: undefined }),
  );
  assert.ok(missing.skipped.some((reason) => reason.includes("nothere not found")));
});

test("empty parts of the setting are ignored, an all-empty setting counts as unset", () => {
  const candidates = launchCandidates(inputs({ settingCommand: ["", ""] }));
  assert.equal(candidates[0]?.source, "python");
});

test("nothing found gives no candidate", () => {
  assert.deepEqual(
    launchCandidates(
      inputs({ settingCommand: [], settingPython: undefined, interpreter: undefined }, []),
    ),
    [],
  );
});

test("findOnPath takes the first executable", () => {
  const executables = new Set(["/b/handrail", "/c/handrail"]);
  assert.equal(
    findOnPath("handrail", ["/a", "/b", "/c"], (file) => executables.has(file)),
    "/b/handrail",
  );
  assert.equal(
    findOnPath("handrail", [], () => true),
    undefined,
  );
});

test("withinWorkspace: the folder itself, below it, or by real path", () => {
  assert.equal(withinWorkspace([WORKSPACE], WORKSPACE, noLinks), true);
  assert.equal(withinWorkspace([WORKSPACE], `${WORKSPACE}/.venv/bin/python`, noLinks), true);
  assert.equal(withinWorkspace([WORKSPACE], `${WORKSPACE}-other/bin`, noLinks), false);
  assert.equal(withinWorkspace([WORKSPACE], "/home/me", noLinks), false);
  const link = (file: string): string => (file === "/usr/bin/py" ? `${WORKSPACE}/py` : file);
  assert.equal(withinWorkspace([WORKSPACE], "/usr/bin/py", link), true);
});

const segment = fc.stringMatching(/^[a-z.]{1,5}$/).filter((s) => s !== "." && s !== "..");
const absolute = fc
  .array(segment, { minLength: 1, maxLength: 4 })
  .map((parts) => `/${parts.join("/")}`);
const pathLike = fc.oneof(
  absolute,
  fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/")),
  fc.constant("."),
  fc.constant(""),
);

test("property: untrusted, no candidate and no search entry lies inside a workspace folder", () => {
  fc.assert(
    fc.property(
      fc.array(absolute, { minLength: 1, maxLength: 3 }),
      fc.array(pathLike, { maxLength: 6 }),
      fc.array(pathLike, { maxLength: 3 }),
      fc.option(absolute, { nil: undefined }),
      fc.option(absolute, { nil: undefined }),
      (folders, entries, setting, python, interpreter) => {
        const insideEntries = folders.map((folder) => `${folder}/bin`);
        const pathVariable = [...insideEntries, ...entries].join(":");
        const plan = launchPlan({
          trusted: false,
          settingCommand: setting,
          settingPython: python,
          interpreter,
          pathVariable,
          delimiter: ":",
          workspaceFolders: folders,
          isExecutable: () => true,
          realpath: noLinks,
        });
        for (const candidate of plan.candidates) {
          assert.equal(candidate.source, "path");
          assert.ok(path.isAbsolute(candidate.command), candidate.command);
          assert.equal(
            withinWorkspace(folders, candidate.command, noLinks),
            false,
            candidate.command,
          );
        }
        for (const dir of safeSearchPath(pathVariable, ":", folders, false, noLinks)) {
          assert.ok(path.isAbsolute(dir));
          assert.equal(withinWorkspace(folders, dir, noLinks), false);
        }
      },
    ),
  );
});

test("property: every interpreter launch starts with -I", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.array(pathLike, { maxLength: 3 }),
      fc.option(pathLike, { nil: undefined }),
      fc.option(pathLike, { nil: undefined }),
      (trusted, setting, python, interpreter) => {
        const candidates = launchCandidates(
          inputs({ trusted, settingCommand: setting, settingPython: python, interpreter }),
        );
        for (const candidate of candidates) {
          if (candidate.source === "python" || candidate.source === "interpreter") {
            assert.deepEqual(candidate.args, [...INTERPRETER_ARGS]);
          }
        }
      },
    ),
  );
});

test("property: the server's working folder is never inside a workspace folder", () => {
  fc.assert(
    fc.property(
      fc.array(absolute, { minLength: 1, maxLength: 3 }),
      fc.array(absolute, { minLength: 1, maxLength: 4 }),
      (folders, choices) => {
        const cwd = serverCwd([...folders.map((f) => `${f}/sub`), ...choices], folders, noLinks);
        if (cwd !== undefined) {
          assert.equal(withinWorkspace(folders, cwd, noLinks), false);
        } else {
          assert.ok(choices.every((choice) => withinWorkspace(folders, choice, noLinks)));
        }
      },
    ),
  );
});

test("serverCwd takes the first choice outside the workspace", () => {
  assert.equal(serverCwd(["/home/me/.storage", "/tmp"], ["/home/me"], noLinks), "/tmp");
  assert.equal(serverCwd(["/home/me/.storage", "/tmp"], ["/"], noLinks), undefined);
});

test("the server's environment: relative and (untrusted) workspace search entries go", () => {
  const env = {
    PATH: `.:${WORKSPACE}/node_modules/.bin::/usr/bin`,
    PYTHONPATH: `src:${WORKSPACE}/lib:/opt/lib`,
    HOME: "/home/me",
    UNSET: undefined,
  };
  assert.deepEqual(serverEnvironment(env, ":", [WORKSPACE], false, noLinks), {
    PATH: "/usr/bin",
    PYTHONPATH: "/opt/lib",
    HOME: "/home/me",
  });
  assert.deepEqual(serverEnvironment(env, ":", [WORKSPACE], true, noLinks), {
    PATH: `${WORKSPACE}/node_modules/.bin:/usr/bin`,
    PYTHONPATH: `${WORKSPACE}/lib:/opt/lib`,
    HOME: "/home/me",
  });
});

test("descriptions name where the server comes from", () => {
  const [setting, python, interpreter, onPath] = launchCandidates(inputs());
  assert.ok(
    setting !== undefined &&
      python !== undefined &&
      interpreter !== undefined &&
      onPath !== undefined,
  );
  assert.match(describeCandidate(setting), /handrail\.server\.command/);
  assert.match(describeCandidate(python), /handrail\.server\.python/);
  assert.match(describeCandidate(interpreter), /-I -m handrail lsp/);
  assert.match(describeCandidate(onPath), /PATH/);
});

test("manifest: every setting that chooses a program is machine-scoped and restricted", () => {
  const manifest = JSON.parse(
    readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8"),
  ) as {
    capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
    contributes: { configuration: { properties: Record<string, { scope?: string }> } };
  };
  const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
  const properties = manifest.contributes.configuration.properties;
  const launching = Object.keys(properties).filter((name) => name.startsWith("handrail.server."));
  assert.deepEqual(launching.sort(), ["handrail.server.command", "handrail.server.python"]);
  for (const name of launching) {
    assert.equal(properties[name]?.scope, "machine", name);
    assert.ok(restricted.includes(name), name);
  }
});
