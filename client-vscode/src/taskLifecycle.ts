// "Edit Task", "Close Task", "Reopen Task": a task's life after New AI Task (issue 13). The
// server does the work (`handrail.editTask`, `handrail.closeTask`, `handrail.reopenTask`);
// what the user is shown comes from src/logic/tasks.ts.
import * as vscode from "vscode";
import { EditTaskResult, ListTasksResult, TaskJson, TaskStatusResult } from "./logic/protocol";
import {
  CLOSE_CHOICES,
  CLOSE_TASK,
  contextLine,
  EDIT_CHOICES,
  EDIT_TASK,
  editOutcome,
  LIST_TASKS,
  parseContextLine,
  REOPEN_TASK,
  statusOutcome,
  taskPickItems,
} from "./logic/tasks";
import { askSpec } from "./newTask";
import { ServerController } from "./server";
import { ActiveTask } from "./tasks";

function folderUri(): vscode.Uri | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (folder === undefined) {
    void vscode.window.showWarningMessage("Handrail: open a folder first.");
  }
  return folder;
}

async function listed(server: ServerController, folder: vscode.Uri): Promise<ListTasksResult> {
  return server.execute<ListTasksResult>(LIST_TASKS, { all: true, folder: folder.toString() });
}

async function pick(
  result: ListTasksResult,
  which: "open" | "closed",
  title: string,
  preferred: string | undefined,
): Promise<TaskJson | undefined> {
  const items = taskPickItems(result, which);
  if (items.length === 0) {
    void vscode.window.showInformationMessage(
      `Handrail: there is no ${which === "open" ? "open" : "closed"} task.`,
    );
    return undefined;
  }
  // The task in front comes first, so Enter acts on it.
  items.sort((a, b) => Number(b.task === preferred) - Number(a.task === preferred));
  const picked = await vscode.window.showQuickPick(items, { title });
  return result.tasks.find((task) => task.task === picked?.task);
}

function report(error: unknown): void {
  void vscode.window.showErrorMessage(`Handrail: ${String(error)}`);
}

/** The steps every lifecycle command starts with: the folder, then the task, picked from the
 * open or the closed ones; `body` runs with both, and any error becomes one message. */
async function withPickedTask(
  server: ServerController,
  which: "open" | "closed",
  title: string,
  preselect: string | undefined,
  body: (task: TaskJson, folder: vscode.Uri) => Promise<void>,
): Promise<void> {
  const folder = folderUri();
  if (folder === undefined) {
    return;
  }
  try {
    const task = await pick(await listed(server, folder), which, title, preselect);
    if (task !== undefined) {
      await body(task, folder);
    }
  } catch (error) {
    report(error);
  }
}

export async function editTask(server: ServerController, active: ActiveTask): Promise<void> {
  await withPickedTask(
    server,
    "open",
    "Edit which task?",
    active.current(),
    async (task, folder) => {
      const choice = await vscode.window.showQuickPick(EDIT_CHOICES, {
        title: `Edit task ${task.task}: what?`,
      });
      if (choice === undefined) {
        return;
      }
      const argument: Record<string, unknown> = { task: task.task, folder: folder.toString() };
      if (choice.field === "spec") {
        const spec = await askSpec(server, folder, `Edit task ${task.task}: the spec`, task.spec);
        if (spec === undefined) {
          return;
        }
        argument.spec = spec;
      } else if (choice.field === "context") {
        const line = await vscode.window.showInputBox({
          title: `Edit task ${task.task}: the context`,
          prompt: "Entries separated by commas: src/a.py, src/b.py#L10-L40",
          value: contextLine(task),
          ignoreFocusOut: true,
        });
        if (line === undefined) {
          return;
        }
        argument.context = parseContextLine(line);
      } else {
        const verify = await vscode.window.showInputBox({
          title: `Edit task ${task.task}: the verification command`,
          prompt: "Empty: the workflow's command.",
          value: task.verify ?? "",
          ignoreFocusOut: true,
        });
        if (verify === undefined) {
          return;
        }
        argument.verify = verify;
      }
      const outcome = editOutcome(await server.execute<EditTaskResult>(EDIT_TASK, argument));
      if (outcome.ok) {
        void vscode.window.showInformationMessage(`Handrail: ${outcome.message}`);
      } else {
        void vscode.window.showErrorMessage(`Handrail: ${outcome.message}`);
      }
    },
  );
}

export async function closeTask(server: ServerController, active: ActiveTask): Promise<void> {
  await withPickedTask(
    server,
    "open",
    "Close which task?",
    active.current(),
    async (task, folder) => {
      const choice = await vscode.window.showQuickPick(CLOSE_CHOICES, {
        title: `Close task ${task.task}: why?`,
      });
      if (choice === undefined) {
        return;
      }
      const note = await vscode.window.showInputBox({
        title: `Close task ${task.task} (${choice.reason})`,
        prompt: "A note for the task file (optional): why, where it went.",
        ignoreFocusOut: true,
      });
      if (note === undefined) {
        return;
      }
      const result = await server.execute<TaskStatusResult>(CLOSE_TASK, {
        task: task.task,
        reason: choice.reason,
        note: note.trim().length > 0 ? note : undefined,
        folder: folder.toString(),
      });
      void vscode.window.showInformationMessage(`Handrail: ${statusOutcome(result)}`);
    },
  );
}

export async function reopenTask(server: ServerController, active: ActiveTask): Promise<void> {
  await withPickedTask(server, "closed", "Reopen which task?", undefined, async (task, folder) => {
    const result = await server.execute<TaskStatusResult>(REOPEN_TASK, {
      task: task.task,
      folder: folder.toString(),
    });
    await active.set(task.task);
    void vscode.window.showInformationMessage(`Handrail: ${statusOutcome(result)}`);
  });
}
