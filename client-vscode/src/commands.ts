// The everyday commands: mark, verify, record trace, explain, review, show task.
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { blockAt, blockSpans, taskOfPath } from "./logic/blocks";
import {
  MarkSelectionResult,
  ReviewResult,
  VerifyResult,
  reviewOutcome,
  verifyOutcome,
} from "./logic/protocol";
import { initCandidates, initSummary } from "./logic/initRepository";
import { selectedLines } from "./logic/selection";
import { APPROVE, RESTRICTED_MODE, TrustStatusJson, approvalMessage } from "./logic/trust";
import { failedRuns, failureHint, outputDocument } from "./logic/verifyOutput";
import { showTaskResult } from "./newTask";
import { ServerController } from "./server";
import { ActiveTask, pickTask, taskFiles } from "./tasks";

export const VERIFY_COMMAND = "handrail.verify";

/** The block under the cursor, else one picked from the blocks of the active document. */
async function chooseBlock(): Promise<{ block: string; uri: string } | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showWarningMessage("Handrail: open the file that holds the block first.");
    return undefined;
  }
  const text = editor.document.getText();
  const uri = editor.document.uri.toString();
  const here = blockAt(text, editor.selection.active.line + 1);
  if (here !== undefined) {
    return { block: here.id, uri };
  }
  const spans = blockSpans(text);
  if (spans.length === 0) {
    void vscode.window.showWarningMessage(
      "Handrail: this file has no generated block (no handrail:begin/end markers).",
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    spans.map((span) => ({
      label: span.id,
      description: `lines ${span.beginLine}-${span.endLine}`,
    })),
    { title: "Which generated block?" },
  );
  return picked === undefined ? undefined : { block: picked.label, uri };
}

function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  void vscode.window.showErrorMessage(`Handrail: ${message}`);
}

export async function markSelection(server: ServerController, active: ActiveTask): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showInformationMessage(
      "Handrail: open a file and select the generated lines first.",
    );
    return;
  }
  const selection = editor.selection;
  const lines = selectedLines(selection.start, selection.end, (line) =>
    line < editor.document.lineCount ? editor.document.lineAt(line).text : "",
  );
  if ("refusal" in lines) {
    void vscode.window.showInformationMessage(`Handrail: ${lines.refusal}`);
    return;
  }
  const choice = await pickTask("Mark the selection as generated for which task?", true);
  if (choice === undefined) {
    return;
  }
  try {
    const result = await server.execute<MarkSelectionResult>("handrail.markSelection", {
      uri: editor.document.uri.toString(),
      startLine: lines.startLine,
      endLine: lines.endLine,
      task: choice.task,
      version: editor.document.version,
    });
    if (!result.applied) {
      void vscode.window.showWarningMessage(
        `Handrail: the lines were not marked${result.reason === undefined ? "" : `: ${result.reason}`}.`,
      );
      return;
    }
    await active.set(result.task);
  } catch (error) {
    report(error);
  }
}

/**
 * Verification runs commands the workspace defines, so it never starts in Restricted Mode.
 * The check is here, in the handler, because a command can be run without its menu entry.
 */
export async function verify(
  server: ServerController,
  active: ActiveTask,
  scope: "block" | "task",
): Promise<void> {
  // Before asking which block: in Restricted Mode nothing runs, whatever is chosen.
  if (await refusedInRestrictedMode()) {
    return;
  }
  let argument: Record<string, unknown>;
  if (scope === "block") {
    const block = await chooseBlock();
    if (block === undefined) {
      return;
    }
    argument = { block: block.block, uri: block.uri };
  } else {
    const task = active.current() ?? (await pickTask("Verify which task?", false))?.task;
    if (task === undefined || task === null) {
      return;
    }
    argument = { task };
  }
  await runVerify(server, argument);
}

/** In Restricted Mode nothing runs: say so, with the way out, and answer true. */
async function refusedInRestrictedMode(): Promise<boolean> {
  if (vscode.workspace.isTrusted) {
    return false;
  }
  const manage = "Manage Workspace Trust";
  const choice = await vscode.window.showWarningMessage(`Handrail: ${RESTRICTED_MODE}`, manage);
  if (choice === manage) {
    await vscode.commands.executeCommand("workbench.trust.manage");
  }
  return true;
}

/**
 * One flow for the palette and the lens (the lens's `handrail.verify` is routed here), so both
 * give the same answer in Restricted Mode, one message per outcome, and the approval button.
 */
export async function runVerify(
  server: ServerController,
  argument: Record<string, unknown>,
  approvedNow = false,
): Promise<void> {
  if (await refusedInRestrictedMode()) {
    return;
  }
  if (!server.advertised().includes(VERIFY_COMMAND)) {
    void vscode.window.showWarningMessage(
      "Handrail: this version of the language server cannot verify from the editor; update Handrail.",
    );
    return;
  }
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Handrail: verifying" },
      () => server.execute<VerifyResult>(VERIFY_COMMAND, { ...argument, quiet: true }),
    );
    if (!approvedNow && !result.ran && (await askApproval(server))) {
      await runVerify(server, argument, true);
      return;
    }
    const outcome = verifyOutcome(result);
    const failed = failedRuns(result.runs);
    if (outcome.ok) {
      void vscode.window.showInformationMessage(`Handrail: ${outcome.message}`);
    } else if (failed.length > 0) {
      const show = "Show Output";
      const choice = await vscode.window.showWarningMessage(
        `Handrail: ${outcome.message}${failureHint(failed)}`,
        show,
      );
      if (choice === show) {
        const document = await vscode.workspace.openTextDocument({
          content: outputDocument(result.target, failed),
          language: "log",
        });
        await vscode.window.showTextDocument(document, { preview: true });
      }
    } else {
      void vscode.window.showWarningMessage(`Handrail: ${outcome.message}`);
    }
  } catch (error) {
    report(error);
  }
}

/** A command's outcome as a notification: information when it worked, a warning otherwise. */
function showOutcome(outcome: { ok: boolean; message: string }): void {
  if (outcome.ok) {
    void vscode.window.showInformationMessage(`Handrail: ${outcome.message}`);
  } else {
    void vscode.window.showWarningMessage(`Handrail: ${outcome.message}`);
  }
}

/** The machine's approval in one message; true when the user approved and it was recorded. */
async function askApproval(server: ServerController): Promise<boolean> {
  if (!server.advertised().includes("handrail.trustStatus")) {
    return false;
  }
  const status = await server.execute<TrustStatusJson>("handrail.trustStatus", {});
  const message = approvalMessage(status);
  if (message === undefined || !status.editor_trusted) {
    return false;
  }
  const choice = await vscode.window.showWarningMessage(message, { modal: false }, APPROVE);
  if (choice !== APPROVE) {
    return false;
  }
  await server.execute("handrail.approveTrust", {
    commands: status.commands.map((c) => c.command),
  });
  return true;
}

export async function recordEvidence(
  server: ServerController,
  kind: "trace" | "explain",
): Promise<void> {
  const block = await chooseBlock();
  if (block === undefined) {
    return;
  }
  const argument: Record<string, unknown> = { block: block.block, uri: block.uri };
  if (kind === "trace") {
    const note = await vscode.window.showInputBox({
      title: `Record a manual trace of ${block.block}`,
      prompt: "What did the trace cover? (inputs you walked through, edge cases)",
      ignoreFocusOut: true,
    });
    if (note === undefined) {
      return;
    }
    argument.note = note;
  }
  try {
    await server.execute(kind === "trace" ? "handrail.recordTrace" : "handrail.explain", argument);
    void vscode.window.showInformationMessage(
      kind === "trace"
        ? `Handrail: trace recorded for ${block.block}.`
        : `Handrail: recorded that you can explain every line of ${block.block}.`,
    );
  } catch (error) {
    report(error);
  }
}

export async function reviewBlock(server: ServerController): Promise<void> {
  const block = await chooseBlock();
  if (block === undefined) {
    return;
  }
  const approve = "Approve";
  const changes = "Request changes";
  const verdict = await vscode.window.showQuickPick([approve, changes], {
    title: `Your review of ${block.block} (as saved)`,
    placeHolder: "A reviewer is not the block's author; editing the block voids the review.",
  });
  if (verdict === undefined) {
    return;
  }
  const note = await vscode.window.showInputBox({
    title: `Review of ${block.block}`,
    prompt: verdict === approve ? "What did you check? (optional)" : "What needs to change?",
    ignoreFocusOut: true,
  });
  if (note === undefined) {
    return;
  }
  try {
    const result = await server.execute<ReviewResult>("handrail.review", {
      block: block.block,
      uri: block.uri,
      verdict: verdict === approve ? "approve" : "request_changes",
      note,
    });
    showOutcome(reviewOutcome(result));
  } catch (error) {
    report(error);
  }
}

export async function showTask(server: ServerController, active: ActiveTask): Promise<void> {
  const task = active.current() ?? (await pickTask("Show which task?", false))?.task;
  if (task === undefined || task === null) {
    return;
  }
  const file = (await taskFiles()).find((uri) => taskOfPath(uri.fsPath) === task);
  if (file !== undefined) {
    await vscode.window.showTextDocument(file, { preview: false });
  }
  await active.set(task);
  try {
    await showTaskResult(server, task);
  } catch (error) {
    report(error);
  }
}

/**
 * "Handrail: Initialize Repository": `handrail init` in the folder chosen. The candidates are
 * the current file's git repository, the workspace folders and the repositories around them
 * (`initCandidates`); with more than one, the user picks.
 */
export async function initRepository(server: ServerController): Promise<void> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file");
  const active = vscode.window.activeTextEditor?.document.uri;
  const activeFile = active?.scheme === "file" ? active.fsPath : undefined;
  const candidates = initCandidates(
    folders.map((f) => f.uri.fsPath),
    activeFile,
    { has: (folder, name) => fs.existsSync(path.join(folder, name)) },
  );
  const first = candidates[0];
  if (first === undefined) {
    void vscode.window.showWarningMessage("Handrail: open a folder first.");
    return;
  }
  let root = first.root;
  if (candidates.length > 1) {
    const picked = await vscode.window.showQuickPick(
      candidates.map((c) => ({
        label: c.root,
        description: c.alreadySetUp ? `${c.reason} · already set up` : c.reason,
        root: c.root,
      })),
      { placeHolder: "Initialize Handrail in which folder?" },
    );
    if (picked === undefined) {
      return;
    }
    root = picked.root;
  }
  try {
    const result = await server.initRepository(root);
    void vscode.window.showInformationMessage(initSummary(result));
  } catch (error) {
    report(error);
  }
}
