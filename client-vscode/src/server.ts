// Starting, restarting and talking to `handrail lsp`.
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";
import {
  LaunchCandidate,
  describeCandidate,
  findOnPath,
  launchCandidates,
} from "./logic/serverCommand";
import { selectedInterpreter } from "./python";

const CLIENT_ID = "handrail";
const RECORDING_COMMANDS = new Set([
  "handrail.newTask",
  "handrail.markSelection",
  "handrail.recordTrace",
  "handrail.explain",
  "handrail.verify",
  "handrail.verifyAll",
]);

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether `python -c "import handrail"` succeeds: the interpreter has Handrail installed. */
function hasHandrail(python: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(python, ["-c", "import handrail"], { timeout: 20_000 }, (error) => {
      resolve(error === null);
    });
  });
}

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  // Restarts are chained so that two quick triggers (trust granted, interpreter changed)
  // never run two servers side by side.
  private queue: Promise<void> = Promise.resolve();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidStart = this.changed.event;
  private readonly recorded = new vscode.EventEmitter<string>();
  /** A command that writes tasks or the ledger has finished: counts and tokens may differ. */
  readonly onDidRecord = this.recorded.event;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  get running(): LanguageClient | undefined {
    return this.client?.isRunning() === true ? this.client : undefined;
  }

  restart(reason: string): Promise<void> {
    this.queue = this.queue
      .then(() => this.doRestart(reason))
      .catch((error: unknown) => {
        this.log.error(`Restart failed: ${String(error)}`);
      });
    return this.queue;
  }

  /** The command names the running server advertises. */
  advertised(): readonly string[] {
    return this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  }

  async execute<T>(command: string, argument?: Record<string, unknown>): Promise<T> {
    const client = this.running;
    if (client === undefined) {
      throw new Error("The Handrail server is not running. Run 'Handrail: Restart Server'.");
    }
    const args = argument === undefined ? [] : [argument];
    const result = (await client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: args,
    })) as T;
    if (RECORDING_COMMANDS.has(command)) {
      this.recorded.fire(command);
    }
    return result;
  }

  private async doRestart(reason: string): Promise<void> {
    this.log.info(`Starting the server: ${reason}`);
    await this.stop();
    const candidate = await this.chooseServer();
    if (candidate === undefined) {
      return;
    }
    this.log.info(`Using ${describeCandidate(candidate)}`);
    const serverOptions: ServerOptions = {
      command: candidate.command,
      args: candidate.args,
      transport: TransportKind.stdio,
      options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath },
    };
    const config = vscode.workspace.getConfiguration("handrail");
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }],
      outputChannel: this.log,
      traceOutputChannel: this.log,
      synchronize: { configurationSection: "handrail" },
      initializationOptions: {
        trusted: vscode.workspace.isTrusted,
        debounceMs: config.get<number>("debounceMs", 200),
      },
    };
    const client = new LanguageClient(CLIENT_ID, "Handrail", serverOptions, clientOptions);
    this.client = client;
    try {
      await client.start();
      this.changed.fire();
    } catch (error) {
      this.log.error(`The server did not start: ${String(error)}`);
      void vscode.window.showErrorMessage(
        `Handrail: the language server from ${describeCandidate(candidate)} did not start. See the Handrail output for details.`,
      );
    }
  }

  private async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    try {
      await client.dispose(2000);
    } catch (error) {
      this.log.warn(`Stopping the server: ${String(error)}`);
    }
  }

  private async chooseServer(): Promise<LaunchCandidate | undefined> {
    const config = vscode.workspace.getConfiguration("handrail.server");
    const interpreter = await selectedInterpreter();
    const candidates = launchCandidates({
      trusted: vscode.workspace.isTrusted,
      settingCommand: config.get<string[]>("command", []),
      interpreter,
      onPath: findOnPath(
        "handrail",
        process.env.PATH,
        path.delimiter,
        (dir, file) => path.join(dir, file),
        isExecutable,
      ),
    });
    for (const candidate of candidates) {
      // The setting and PATH are taken as they are; an interpreter is used only when it has
      // Handrail, since most interpreters will not.
      if (candidate.source !== "interpreter" || (await hasHandrail(candidate.command))) {
        return candidate;
      }
      this.log.info(`${candidate.command} has no handrail package; trying the next option.`);
    }
    this.log.warn(
      `No Handrail server found (tried ${candidates.map(describeCandidate).join(", ") || "nothing: no setting, interpreter or PATH entry"}).`,
    );
    // Not awaited: the restart queue must not wait for the user to answer the notification.
    void this.offerInstall(interpreter);
    return undefined;
  }

  private async offerInstall(interpreter: string | undefined): Promise<void> {
    const message =
      "Handrail: the language server is not installed. Set handrail.server.command, select a Python interpreter that has Handrail, or install it.";
    if (interpreter === undefined || !vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(message);
      return;
    }
    const install = `Install into ${interpreter}`;
    const choice = await vscode.window.showWarningMessage(message, install);
    if (choice === install) {
      const terminal = vscode.window.createTerminal("Handrail install");
      terminal.show();
      terminal.sendText(`"${interpreter}" -m pip install handrail`);
    }
  }

  async dispose(): Promise<void> {
    this.changed.dispose();
    this.recorded.dispose();
    await this.stop();
  }
}
