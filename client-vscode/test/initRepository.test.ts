import assert from "node:assert/strict";
import { test } from "node:test";
import { initArgs, initSummary } from "../src/logic/initRepository";

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
