// Activation: the server, the commands, the status bar and Workspace Trust.
import * as vscode from "vscode";
import { addToContext } from "./addToContext";
import { BlockDecorations } from "./blockDecorations";
import { registerChat } from "./chat";
import {
  initRepository,
  markSelection,
  recordEvidence,
  reviewBlock,
  runVerify,
  showTask,
  verify,
} from "./commands";
import { newAiTask } from "./newTask";
import { onInterpreterChange } from "./python";
import { ServerController } from "./server";
import { registerTools } from "./lmTools";
import { HandrailStatusBar, SHOW_UNVERIFIED } from "./statusBar";
import { closeTask, editTask, reopenTask } from "./taskLifecycle";
import { ActiveTask, listTasksFrom } from "./tasks";

let controller: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("Handrail", { log: true });
  const server = new ServerController(log, context.globalStorageUri.fsPath);
  const active = new ActiveTask(context.workspaceState);
  const status = new HandrailStatusBar(server, active, log);
  controller = server;
  context.subscriptions.push(log, active, status, new BlockDecorations());

  const register = (name: string, run: () => Promise<void>): void => {
    context.subscriptions.push(vscode.commands.registerCommand(name, run));
  };
  register("handrail.newAiTask", () => newAiTask(server, active));
  register("handrail.markSelectionAsGenerated", () => markSelection(server, active));
  register("handrail.verifyBlock", () => verify(server, active, "block"));
  register("handrail.verifyTask", () => verify(server, active, "task"));
  register("handrail.recordTraceForBlock", () => recordEvidence(server, "trace"));
  register("handrail.explainBlock", () => recordEvidence(server, "explain"));
  register("handrail.reviewBlock", () => reviewBlock(server));
  register("handrail.showTask", () => showTask(server, active));
  register("handrail.editAiTask", () => editTask(server, active));
  register("handrail.closeAiTask", () => closeTask(server, active));
  register("handrail.reopenAiTask", () => reopenTask(server, active));
  listTasksFrom(server);
  context.subscriptions.push(
    vscode.commands.registerCommand(
      "handrail.addToContext",
      (clicked: unknown, selected: unknown) => addToContext(server, active, clicked, selected),
    ),
  );
  register(SHOW_UNVERIFIED, () => status.showUnverified());
  register("handrail.restartServer", () => server.restart("restart requested"));
  register("handrail.initRepository", () => initRepository(server));
  server.setVerifyHandler((argument) => runVerify(server, argument));
  // Chat and agent mode are optional: a host without them (or with AI features turned off
  // in a fork) must still get everything else.
  try {
    registerChat(context, server, active);
    registerTools(context, server, active);
  } catch (error) {
    log.warn(`Chat participant and language model tools not available: ${String(error)}`);
  }

  context.subscriptions.push(
    server.onDidStart(() => {
      status.schedule(0);
      void tellServerActiveTask(server, active, log);
    }),
    server.onDidRecord(() => {
      status.schedule();
    }),
    active.onDidChange(() => {
      status.schedule();
      void tellServerActiveTask(server, active, log);
    }),
    vscode.window.onDidChangeActiveTextEditor(() => {
      status.schedule(300, false);
    }),
    vscode.window.onDidChangeTextEditorSelection(() => {
      status.cursorMoved();
    }),
    vscode.workspace.onDidSaveTextDocument(() => {
      status.schedule();
    }),
    // Trust can only be granted, never revoked, while the window is open. Restarting hands the
    // server `trusted: true` and lets the server command setting count, without a reload.
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      void server.restart("workspace trust granted");
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("handrail.server")) {
        void server.restart("handrail.server settings changed");
      }
    }),
  );
  const interpreterWatch = await onInterpreterChange(() => {
    void server.restart("the selected Python interpreter changed");
  });
  if (interpreterWatch !== undefined) {
    context.subscriptions.push(interpreterWatch);
  }
  await server.restart("extension activated");
}

/**
 * The server gives files an agent changes on disk the HR308 hint while a task is active; it
 * learns which task from here. Each workspace folder is told; a folder without that task
 * refuses, which is expected in a multi-root window.
 */
async function tellServerActiveTask(
  server: ServerController,
  active: ActiveTask,
  log: vscode.LogOutputChannel,
): Promise<void> {
  const task = active.stored();
  if (task === undefined || !server.advertised().includes("handrail.setActiveTask")) {
    return;
  }
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    try {
      await server.execute("handrail.setActiveTask", { task, folder: folder.uri.toString() });
    } catch (error) {
      log.debug(`No active task ${task} in ${folder.name}: ${String(error)}`);
    }
  }
}

export async function deactivate(): Promise<void> {
  await controller?.dispose();
  controller = undefined;
}
