// The workspace's tasks and the one the user is working on.
import * as vscode from "vscode";
import { blockAt, taskOfBlock, taskOfPath } from "./logic/blocks";
import { ListTasksResult } from "./logic/protocol";
import { LIST_TASKS, taskPickItems } from "./logic/tasks";
import type { ServerController } from "./server";

let taskSource: ServerController | undefined;

/** The server the pickers ask for the open tasks (set once at activation). */
export function listTasksFrom(server: ServerController): void {
  taskSource = server;
}

/** The open tasks as picker items, from the server; undefined when it cannot say. */
async function openTaskItems(): Promise<
  { label: string; description: string; task: string }[] | undefined
> {
  const server = taskSource;
  if (server?.running === undefined || !server.advertised().includes(LIST_TASKS)) {
    return undefined;
  }
  try {
    return taskPickItems(await server.execute<ListTasksResult>(LIST_TASKS, {}), "open");
  } catch {
    return undefined;
  }
}

const ACTIVE_TASK_KEY = "handrail.activeTask";

export class ActiveTask {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly state: vscode.Memento) {}

  /** The task of the editor in front (a task file or a block), else the last one used. */
  current(): string | undefined {
    const editor = vscode.window.activeTextEditor;
    if (editor !== undefined) {
      const fromPath = taskOfPath(editor.document.uri.fsPath);
      if (fromPath !== undefined) {
        return fromPath;
      }
      const block = blockAt(editor.document.getText(), editor.selection.active.line + 1);
      if (block !== undefined) {
        return taskOfBlock(block.id);
      }
    }
    return this.state.get<string>(ACTIVE_TASK_KEY);
  }

  /** The last task used (created, picked, generated for), whatever editor is in front. */
  stored(): string | undefined {
    return this.state.get<string>(ACTIVE_TASK_KEY);
  }

  async set(task: string): Promise<void> {
    await this.state.update(ACTIVE_TASK_KEY, task);
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export async function taskFiles(): Promise<vscode.Uri[]> {
  const files = await vscode.workspace.findFiles(".handrail/tasks/*.toml");
  return files.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

/** Asks for a task; `allowNew` adds "a new task from the template" as the first choice. */
export async function pickTask(
  title: string,
  allowNew: boolean,
): Promise<{ task: string | null } | undefined> {
  interface Item extends vscode.QuickPickItem {
    task: string | null;
  }
  const items: Item[] = [];
  if (allowNew) {
    items.push({ label: "$(add) New task from the template", task: null });
  }
  // Closed tasks (done, abandoned) are left out; a server that cannot list tasks gets the
  // task files as they are.
  const open = await openTaskItems();
  if (open !== undefined) {
    items.push(...open);
  } else {
    for (const file of await taskFiles()) {
      const task = taskOfPath(file.fsPath);
      if (task !== undefined) {
        items.push({ label: task, description: vscode.workspace.asRelativePath(file), task });
      }
    }
  }
  const picked = await vscode.window.showQuickPick(items, { title });
  return picked === undefined ? undefined : { task: picked.task };
}
