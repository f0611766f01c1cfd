import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FolderProbe,
  initArgs,
  initCandidates,
  initSummary,
  nearestGitRoot,
} from "../src/logic/initRepository";

test("init runs with the server's own program, lsp replaced by init FOLDER --json", () => {
  assert.deepEqual(initArgs(["lsp"], "/repo"), ["init", "/repo", "--json"]);
  assert.deepEqual(initArgs(["-I", "-m", "handrail", "lsp"], "/repo"), [
    "-I",
    "-m",
    "handrail",
    "init",
    "/repo",
    "--json",
  ]);
});

test("the summary says what was created, or that nothing changed", () => {
  assert.equal(
    initSummary({
      root: "/repo",
      created: [".handrail/workflow.toml"],
      updated: [],
      unchanged: [],
    }),
    "Handrail initialised /repo: created .handrail/workflow.toml. Next: Handrail: New AI Task.",
  );
  assert.equal(
    initSummary({
      root: "/repo",
      created: [],
      updated: [],
      unchanged: [".handrail/workflow.toml"],
    }),
    "Handrail was already set up in /repo: nothing changed.",
  );
});

function probeOf(entries: string[]): FolderProbe {
  const have = new Set(entries);
  return { has: (folder, name) => have.has(`${folder}/${name}`) };
}

test("one folder that is its own git repository: one candidate, nothing to ask", () => {
  const probe = probeOf(["/repo/.git"]);
  assert.deepEqual(initCandidates(["/repo"], "/repo/src/a.py", probe), [
    { root: "/repo", reason: "the git repository of the current file", alreadySetUp: false },
  ]);
});

test("a nested git repository under a folder with .handrail/ is offered first", () => {
  // Issue 19.9: `outer` has .handrail/; the file being edited is in the nested repository.
  const probe = probeOf(["/outer/.handrail", "/outer/projects/app/.git"]);
  const candidates = initCandidates(["/outer"], "/outer/projects/app/src/a.py", probe);
  assert.deepEqual(
    candidates.map((c) => [c.root, c.alreadySetUp]),
    [
      ["/outer/projects/app", false],
      ["/outer", true],
    ],
  );
});

test("a workspace folder inside a git repository offers both the folder and the repository", () => {
  const probe = probeOf(["/mono/.git"]);
  const candidates = initCandidates(["/mono/packages/web"], undefined, probe);
  assert.deepEqual(
    candidates.map((c) => [c.root, c.reason]),
    [
      ["/mono/packages/web", "workspace folder"],
      ["/mono", "the git repository around web"],
    ],
  );
});

test("multi-root: every folder is a candidate, the set-up ones last, none twice", () => {
  const probe = probeOf(["/a/.git", "/a/.handrail", "/b/.git"]);
  const candidates = initCandidates(["/a", "/b"], "/a/x.py", probe);
  assert.deepEqual(
    candidates.map((c) => c.root),
    ["/b", "/a"],
  );
  assert.equal(nearestGitRoot("/nowhere/deep", probe), undefined);
});
