// "Add to Handrail Context" from the Explorer and the editor: appends files to a task's
// context list in the task file, which the server then checks like any edit. The server makes
// the edit (`handrail.editTaskContext`); this applies it to the task file's buffer and saves.
import * as vscode from "vscode";
import { taskOfPath } from "./logic/blocks";
import { EditTaskContextResult } from "./logic/protocol";
import {
  contextEntry,
  contextOutcome,
  EDIT_TASK_CONTEXT,
  editTaskContextArgument,
} from "./logic/taskContext";
import { ServerController } from "./server";
import { ActiveTask, pickTask, taskFiles } from "./tasks";

/** The files the menu was opened on: the Explorer's selection, else the one clicked, else the editor's. */
function targets(clicked: unknown, selected: unknown): vscode.Uri[] {
  if (Array.isArray(selected) && selected.length > 0) {
    return selected.filter((item): item is vscode.Uri => item instanceof vscode.Uri);
  }
  if (clicked instanceof vscode.Uri) {
    return [clicked];
  }
  const editor = vscode.window.activeTextEditor;
  return editor === undefined ? [] : [editor.document.uri];
}

export async function addToContext(
  server: ServerController,
  active: ActiveTask,
  clicked?: unknown,
  selected?: unknown,
): Promise<void> {
  const uris = targets(clicked, selected);
  if (uris.length === 0) {
    return;
  }
  const task =
    active.current() ?? (await pickTask("Add to the context of which task?", false))?.task;
  if (task === undefined || task === null) {
    return;
  }
  const file = (await taskFiles()).find((uri) => taskOfPath(uri.fsPath) === task);
  if (file === undefined) {
    void vscode.window.showWarningMessage(
      `Handrail: task ${task} has no file under .handrail/tasks/.`,
    );
    return;
  }
  // Opened first, so the server edits the buffer (unsaved changes included) at its version.
  const document = await vscode.workspace.openTextDocument(file);
  const entries = uris.map((uri) => contextEntry(vscode.workspace.asRelativePath(uri, false)));
  let result: EditTaskContextResult;
  try {
    result = await server.execute<EditTaskContextResult>(
      EDIT_TASK_CONTEXT,
      editTaskContextArgument(file.toString(), entries),
    );
  } catch (error) {
    void vscode.window.showWarningMessage(
      `Handrail: could not add ${entries.join(", ")} to task ${task}: ${String(error)}`,
    );
    return;
  }
  const outcome = contextOutcome(result, task);
  const client = server.running;
  if (outcome.kind === "present" || client === undefined) {
    void vscode.window.showInformationMessage(outcome.message);
    return;
  }
  const edit = await client.protocol2CodeConverter.asWorkspaceEdit(
    result.edit as Parameters<typeof client.protocol2CodeConverter.asWorkspaceEdit>[0],
  );
  if (edit === undefined || !(await vscode.workspace.applyEdit(edit)) || !(await document.save())) {
    void vscode.window.showErrorMessage(`Handrail: could not write the task file of ${task}.`);
    return;
  }
  await active.set(task);
  void vscode.window.showInformationMessage(outcome.message);
}
