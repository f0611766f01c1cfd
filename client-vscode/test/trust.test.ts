import assert from "node:assert/strict";
import { test } from "node:test";
import { approvalMessage } from "../src/logic/trust";

test("one message lists exactly the commands waiting for approval", () => {
  const message = approvalMessage({
    editor_trusted: true,
    pending: ["pytest -q"],
    commands: [
      {
        command: "pytest -q",
        where: "[verification] command",
        blocks: ["k3f7qa.1"],
        approved: false,
      },
      { command: "npm test", where: "a by_path entry", blocks: ["k3f7qa.2"], approved: true },
    ],
  });
  assert.equal(
    message,
    "Handrail: verifying runs this command from the repository, not yet approved on this machine: `pytest -q` ([verification] command; blocks k3f7qa.1). Approve and run?",
  );
  assert.doesNotMatch(message, /npm/);
});

test("nothing to approve, no message", () => {
  assert.equal(approvalMessage({ editor_trusted: true, pending: [], commands: [] }), undefined);
});
