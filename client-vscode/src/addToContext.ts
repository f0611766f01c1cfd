// "Add to Handrail Context" from the Explorer and the editor: appends files to a task's
// context list in the task file, which the server then checks like any edit.
import * as vscode from "vscode";
import { taskOfPath } from "./logic/blocks";
import { addContextEntry } from "./logic/taskContext";
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
  const document = await vscode.workspace.openTextDocument(file);
  let text = document.getText();
  const added: string[] = [];
  for (const uri of uris) {
    const entry = vscode.workspace.asRelativePath(uri, false).replace(/\\/g, "/");
    const result = addContextEntry(text, entry);
    if (result.kind === "unreadable") {
      void vscode.window.showWarningMessage(
        `Handrail: could not add ${entry} to task ${task}: ${result.reason}.`,
      );
      return;
    }
    if (result.kind === "added") {
      text = result.text;
      added.push(entry);
    }
  }
  if (added.length === 0) {
    void vscode.window.showInformationMessage(`Handrail: already in the context of task ${task}.`);
    return;
  }
  const edit = new vscode.WorkspaceEdit();
  const whole = new vscode.Range(
    document.positionAt(0),
    document.positionAt(document.getText().length),
  );
  edit.replace(file, whole, text);
  if (!(await vscode.workspace.applyEdit(edit)) || !(await document.save())) {
    void vscode.window.showErrorMessage(`Handrail: could not write the task file of ${task}.`);
    return;
  }
  await active.set(task);
  void vscode.window.showInformationMessage(
    `Handrail: added ${added.join(", ")} to the context of task ${task}.`,
  );
}
