import assert from "node:assert/strict";
import { test } from "node:test";
import { describeCandidate, findOnPath, launchCandidates } from "../src/logic/serverCommand";

const base = {
  trusted: true,
  settingCommand: ["/opt/handrail/bin/handrail", "lsp"],
  interpreter: "/usr/bin/python3",
  onPath: "/usr/local/bin/handrail",
};

test("the setting comes first, then the interpreter, then PATH", () => {
  const sources = launchCandidates(base).map((candidate) => candidate.source);
  assert.deepEqual(sources, ["setting", "interpreter", "path"]);
});

test("the setting is split into command and arguments", () => {
  const [first] = launchCandidates(base);
  assert.deepEqual(first, {
    source: "setting",
    command: "/opt/handrail/bin/handrail",
    args: ["lsp"],
  });
});

test("an untrusted workspace never uses the server command setting", () => {
  const candidates = launchCandidates({ ...base, trusted: false });
  assert.ok(candidates.every((candidate) => candidate.source !== "setting"));
  assert.equal(candidates[0]?.command, "/usr/bin/python3");
});

test("the interpreter runs the module", () => {
  const candidates = launchCandidates({ ...base, settingCommand: [] });
  assert.deepEqual(candidates[0]?.args, ["-m", "handrail", "lsp"]);
});

test("empty parts of the setting are ignored, an all-empty setting counts as unset", () => {
  const candidates = launchCandidates({ ...base, settingCommand: ["", ""] });
  assert.equal(candidates[0]?.source, "interpreter");
});

test("nothing found gives no candidate", () => {
  assert.deepEqual(
    launchCandidates({
      trusted: true,
      settingCommand: [],
      interpreter: undefined,
      onPath: undefined,
    }),
    [],
  );
});

test("findOnPath takes the first executable and skips empty entries", () => {
  const executables = new Set(["/b/handrail", "/c/handrail"]);
  const found = findOnPath(
    "handrail",
    ":/a:/b:/c",
    ":",
    (dir, file) => `${dir}/${file}`,
    (file) => executables.has(file),
  );
  assert.equal(found, "/b/handrail");
  assert.equal(
    findOnPath(
      "handrail",
      undefined,
      ":",
      (d, f) => `${d}/${f}`,
      () => true,
    ),
    undefined,
  );
});

test("descriptions name where the server comes from", () => {
  const [setting, interpreter, onPath] = launchCandidates(base);
  assert.ok(setting !== undefined && interpreter !== undefined && onPath !== undefined);
  assert.match(describeCandidate(setting), /handrail\.server\.command/);
  assert.match(describeCandidate(interpreter), /-m handrail lsp/);
  assert.match(describeCandidate(onPath), /PATH/);
});
