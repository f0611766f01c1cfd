// The launch that serverCommand.ts computes, run as real processes against a hostile
// workspace: a repository whose own `handrail/`, `pygls/`, `click/`, `.venv/bin/python`,
// `bin/handrail` and `git` each write a sentinel file when they run (issue 16). The controls run
// the launch as it was before the fix and see the sentinel, so the fixture is known to bite.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { isExecutable, realpath } from "../src/logic/files";
import {
  PROBE_ARGS,
  findOnPath,
  launchCandidates,
  safeSearchPath,
  serverCwd,
  serverEnvironment,
} from "../src/logic/serverCommand";

const root = mkdtempSync(path.join(tmpdir(), "handrail-hostile-"));
after(() => {
  rmSync(root, { recursive: true, force: true });
});
const sentinels = path.join(root, "sentinels");
const workspace = path.join(root, "workspace");
const storage = path.join(root, "storage");
mkdirSync(sentinels);
mkdirSync(storage);

function plant(file: string, text: string, executable = false): void {
  mkdirSync(path.dirname(path.join(workspace, file)), { recursive: true });
  writeFileSync(path.join(workspace, file), text);
  if (executable) chmodSync(path.join(workspace, file), 0o755);
}
const pythonPlant = (name: string): string =>
  `open(${JSON.stringify(path.join(sentinels, name))}, "w").write("ran")\n`;
const shellPlant = (name: string): string =>
  `#!/bin/sh\necho ran > ${JSON.stringify(path.join(sentinels, name))}\n`;
plant("handrail/__init__.py", pythonPlant("handrail-package"));
plant("handrail/__main__.py", pythonPlant("handrail-main"));
plant("pygls/__init__.py", pythonPlant("pygls-package"));
plant("click/__init__.py", pythonPlant("click-package"));
plant(".venv/bin/python", shellPlant("venv-python"), true);
plant(".venv/bin/handrail", shellPlant("venv-handrail"), true);
plant("bin/handrail", shellPlant("bin-handrail"), true);
plant("git", shellPlant("root-git"), true);

const sentinelsWritten = (): string[] => readdirSync(sentinels);
function clearSentinels(): void {
  for (const name of sentinelsWritten()) rmSync(path.join(sentinels, name));
}

/** The repository's .venv interpreter (CI creates it first), else python3 from PATH. */
const repoPython = path.resolve(__dirname, "..", "..", "..", ".venv", "bin", "python");
const python = existsSync(repoPython)
  ? repoPython
  : findOnPath("python3", safeSearchPath(process.env.PATH, ":", [], true, realpath), isExecutable);

/** PATH as a careless user might have it: `.`, `bin` and the workspace's venv first. */
const hostilePath = `.:bin:${workspace}/.venv/bin:${process.env.PATH ?? ""}`;

function launch(trusted: boolean) {
  const folders = [workspace];
  const [candidate] = launchCandidates({
    trusted,
    settingCommand: [],
    settingPython: python,
    interpreter: `${workspace}/.venv/bin/python`,
    pathVariable: hostilePath,
    delimiter: ":",
    workspaceFolders: folders,
    isExecutable,
    realpath,
  });
  const cwd = serverCwd([storage, tmpdir()], folders, realpath);
  const env = serverEnvironment(
    { ...process.env, PATH: hostilePath, PYTHONPATH: workspace },
    ":",
    folders,
    trusted,
    realpath,
  );
  return { candidate, cwd, env };
}

/** Runs a process to its end with stdin `input`; resolves with its exit code and stdout. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
  input = "",
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code, stdout });
    });
    child.stdin.end(input);
  });
}

function frame(message: object): string {
  const body = JSON.stringify(message);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

test("a python to run the hostile workspace against was found", () => {
  assert.ok(python !== undefined, "no python3 on PATH and no repository .venv");
});

test("control: the launch before issue 16 runs the repository's own handrail package", async () => {
  assert.ok(python !== undefined);
  clearSentinels();
  await run(python, ["-m", "handrail", "lsp"], { cwd: workspace, env: process.env });
  assert.ok(sentinelsWritten().includes("handrail-package"), sentinelsWritten().join(", "));
  clearSentinels();
  spawnSync("git", ["--version"], { cwd: workspace, env: { ...process.env, PATH: hostilePath } });
  assert.deepEqual(sentinelsWritten(), ["root-git"]);
  clearSentinels();
});

for (const trusted of [false, true]) {
  const mode = trusted ? "trusted" : "Restricted Mode";

  test(`${mode}: the computed launch and probe run none of the repository's code`, async () => {
    assert.ok(python !== undefined);
    clearSentinels();
    const { candidate, cwd, env } = launch(trusted);
    assert.ok(cwd !== undefined);
    if (trusted) {
      assert.ok(candidate !== undefined);
      assert.equal(candidate.command, python);
      const probe = await run(candidate.command, PROBE_ARGS, { cwd, env });
      const initialize = frame({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { processId: null, rootUri: null, capabilities: {} },
      });
      const exit = frame({ jsonrpc: "2.0", method: "exit" });
      const server = await run(candidate.command, candidate.args, { cwd, env }, initialize + exit);
      assert.deepEqual(sentinelsWritten(), []);
      if (probe.code === 0) {
        // The interpreter has Handrail: the real server answered, not the planted one.
        assert.match(server.stdout, /"serverInfo":\s*\{"name":\s*"handrail"/i);
      }
    } else if (candidate !== undefined) {
      // Restricted Mode: only a `handrail` from PATH outside the workspace may be run.
      assert.equal(candidate.source, "path");
      assert.ok(!candidate.command.startsWith(workspace), candidate.command);
      await run(candidate.command, ["--version"], { cwd, env });
    }
    assert.deepEqual(sentinelsWritten(), []);
  });

  test(`${mode}: git resolved from the server's PATH is not the repository's`, () => {
    clearSentinels();
    const { env } = launch(trusted);
    const git = findOnPath(
      "git",
      safeSearchPath(env.PATH, ":", [workspace], trusted, realpath),
      isExecutable,
    );
    assert.ok(git !== undefined && !git.startsWith(workspace), git);
    // The server runs git in the workspace folder with this environment.
    spawnSync(git, ["--version"], { cwd: workspace, env });
    spawnSync("git", ["--version"], { cwd: workspace, env });
    assert.deepEqual(sentinelsWritten(), []);
  });
}
