import assert from "node:assert/strict";
import { test } from "node:test";
import { failedRuns, failureHint, outputDocument, VerifyRunJson } from "../src/logic/verifyOutput";

const npm: VerifyRunJson = {
  task: "k3f7qa",
  command: ["npm", "test", "--silent"],
  exit_code: 254,
  passed: false,
  timed_out: false,
  cancelled: false,
  start_error: null,
  output_tail: ["npm ERR! code ENOENT", "npm ERR! enoent Could not read package.json"],
  cause: "environment",
  advice: "This looks like the environment, not the block.",
  first_failure: "npm ERR! code ENOENT",
};

test("a failed run's output says what ran, where it points, its first failure and tail", () => {
  const text = outputDocument("block k3f7qa.1", failedRuns([npm]));
  assert.match(text, /^Handrail: verification of block k3f7qa.1 failed/);
  assert.match(text, /\$ npm test --silent {4}\(task k3f7qa, exited with code 254\)/);
  assert.match(text, /Points at: environment\. This looks like the environment, not the block\./);
  assert.match(text, /First failure: npm ERR! code ENOENT/);
  assert.match(text, /Last 2 lines of output:\nnpm ERR! code ENOENT\nnpm ERR! enoent/);
  assert.equal(failureHint([npm]), " The command could not run here: see the output.");
});

test("passed and cancelled runs are not shown; code failures add no hint", () => {
  assert.deepEqual(
    failedRuns([
      { ...npm, passed: true },
      { ...npm, cancelled: true },
    ]),
    [],
  );
  assert.equal(failureHint([{ ...npm, cause: "code" }]), "");
});
