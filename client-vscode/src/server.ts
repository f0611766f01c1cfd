// Starting, restarting and talking to `handrail lsp`.
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import * as os from "node:os";
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
  PROBE_ARGS,
  describeCandidate,
  findOnPath,
  launchPlan,
  safeSearchPath,
  serverCwd,
  serverEnvironment,
} from "./logic/serverCommand";
import { isExecutable, realpath } from "./logic/files";
import { InitJson, initArgs, initSummary } from "./logic/initRepository";
import { needsSentence, withSentence } from "./logic/note";
import { selectedInterpreter } from "./python";

const CLIENT_ID = "handrail";

let trace: vscode.OutputChannel | undefined;

/** The protocol trace's own channel, made once (a restart must not add another). */
function traceChannel(): vscode.OutputChannel {
  trace ??= vscode.window.createOutputChannel("Handrail Protocol Trace");
  return trace;
}
const RECORDING_COMMANDS = new Set([
  "handrail.newTask",
  "handrail.markSelection",
  "handrail.recordTrace",
  "handrail.explain",
  "handrail.review",
  "handrail.note",
  "handrail.verify",
  "handrail.verifyAll",
]);

function fileFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((folder) => folder.uri.scheme === "file")
    .map((folder) => folder.uri.fsPath);
}

/**
 * The absolute path of a program the extension itself runs (git), from PATH's absolute entries
 * and, in Restricted Mode, none inside a workspace folder. Spawning a bare name with the
 * workspace as working folder would run a repository's own `git` when PATH contains `.`.
 */
export function trustedProgram(name: string): string | undefined {
  const dirs = safeSearchPath(
    process.env.PATH,
    path.delimiter,
    fileFolders(),
    vscode.workspace.isTrusted,
    realpath,
  );
  return findOnPath(name, dirs, isExecutable);
}

/** Where and with what environment a process of the extension runs: see serverCommand.ts. */
interface ProcessPlace {
  cwd: string;
  env: Record<string, string>;
}

/**
 * Whether `python -I -c "import handrail"` succeeds: the interpreter has Handrail installed.
 * Asked isolated and outside the workspace, like the launch itself: a plain `import handrail`
 * in the workspace folder would import the repository's own `handrail/`.
 */
function hasHandrail(python: string, place: ProcessPlace): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(python, [...PROBE_ARGS], { timeout: 20_000, ...place }, (error) => {
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

  /** `storage`: the extension's own folder (`globalStorageUri`), the server's working folder. */
  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly storage: string,
  ) {}

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
    const place = this.processPlace();
    if (place === undefined) {
      return;
    }
    const candidate = await this.chooseServer(place);
    if (candidate === undefined) {
      return;
    }
    this.log.info(`Using ${describeCandidate(candidate)} in ${place.cwd}`);
    const serverOptions: ServerOptions = {
      command: candidate.command,
      args: candidate.args,
      transport: TransportKind.stdio,
      // Never a workspace folder: the server learns its folders from `initialize`.
      options: place,
    };
    const config = vscode.workspace.getConfiguration("handrail");
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }],
      outputChannel: this.log,
      // The protocol trace (setting handrail.trace.server) gets its own channel, so the
      // Handrail log stays readable: what ran and what was found.
      traceOutputChannel: traceChannel(),
      synchronize: { configurationSection: "handrail" },
      middleware: {
        // The lens's "Verify" runs the same flow as the palette (one answer, the approval
        // button, Show Output) instead of going straight to the server.
        executeCommand: async (command, args, next) => {
          const handler = this.verifyHandler;
          if (command === "handrail.verify" && handler !== undefined) {
            const [argument] = args as [Record<string, unknown> | undefined];
            await handler(argument ?? {});
            return undefined;
          }
          // "This got in the way…" / "This helped…" on a finding: ask for the one sentence the
          // note may carry (Escape cancels the note; an empty answer records it without one).
          if (!needsSentence(command, args)) {
            return (await next(command, args)) as unknown;
          }
          const sentence = await vscode.window.showInputBox({
            title: "Handrail: note for the workflow review",
            prompt:
              "One sentence, optional: what happened? (No code: the note is for the meeting.)",
            ignoreFocusOut: true,
          });
          if (sentence === undefined) {
            return undefined;
          }
          return (await next(command, withSentence(args, sentence))) as unknown;
        },
      },
      initializationOptions: {
        trusted: vscode.workspace.isTrusted,
        debounceMs: config.get<number>("debounceMs", 200),
        // Also sent with every configuration change (synchronize above): the server reads
        // `lens.acceptedCode` nested, as VS Code sends the section.
        lens: { acceptedCode: config.get<boolean>("lens.acceptedCode", false) },
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

  private verifyHandler: ((argument: Record<string, unknown>) => Promise<void>) | undefined;

  /** Where the lens's `handrail.verify` goes (the palette's flow). */
  setVerifyHandler(handler: (argument: Record<string, unknown>) => Promise<void>): void {
    this.verifyHandler = handler;
  }

  /**
   * `handrail init FOLDER --json` with the program the server would be started with (the
   * same choice, so Restricted Mode runs only `handrail` from PATH), then a restart so the
   * server sees the new `.handrail/`.
   */
  async initRepository(folder: string): Promise<InitJson> {
    const place = this.processPlace();
    if (place === undefined) {
      throw new Error("no safe folder to run Handrail in (see the Handrail output)");
    }
    const candidate = await this.chooseServer(place);
    if (candidate === undefined) {
      throw new Error("Handrail is not installed (see the Handrail output)");
    }
    const args = initArgs(candidate.args, folder);
    this.log.info(`Running ${[candidate.command, ...args].join(" ")}`);
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        candidate.command,
        args,
        { cwd: place.cwd, env: place.env, timeout: 60_000 },
        (error, stdout, stderr) => {
          if (error !== null) {
            reject(new Error(stderr.trim() || error.message));
          } else {
            resolve(stdout);
          }
        },
      );
    });
    const result = JSON.parse(output) as InitJson;
    this.log.info(initSummary(result));
    await this.restart("the repository was initialised");
    return result;
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

  /** The working folder and environment of the server, or undefined (logged) when none is safe. */
  private processPlace(): ProcessPlace | undefined {
    const folders = fileFolders();
    const trusted = vscode.workspace.isTrusted;
    try {
      mkdirSync(this.storage, { recursive: true });
    } catch (error) {
      this.log.warn(`Cannot create ${this.storage}: ${String(error)}`);
    }
    const choices = [this.storage, os.tmpdir(), os.homedir()];
    const cwd = serverCwd(choices, folders, realpath) ?? (trusted ? choices[0] : undefined);
    if (cwd === undefined) {
      this.log.error(
        `Not starting the server: every folder it could run in (${choices.join(", ")}) is inside the untrusted workspace.`,
      );
      return undefined;
    }
    const env = serverEnvironment(process.env, path.delimiter, folders, trusted, realpath);
    return { cwd, env };
  }

  private async chooseServer(place: ProcessPlace): Promise<LaunchCandidate | undefined> {
    const config = vscode.workspace.getConfiguration("handrail.server");
    const trusted = vscode.workspace.isTrusted;
    // Restricted Mode does not ask the Python extension: the workspace chooses its interpreter.
    const interpreter = trusted ? await selectedInterpreter() : undefined;
    const plan = launchPlan({
      trusted,
      settingCommand: config.get<string[]>("command", []),
      settingPython: config.get<string>("python", ""),
      interpreter,
      pathVariable: process.env.PATH,
      delimiter: path.delimiter,
      workspaceFolders: fileFolders(),
      isExecutable,
      realpath,
    });
    for (const reason of plan.skipped) {
      this.log.info(`Not used: ${reason}.`);
    }
    const candidates = plan.candidates;
    for (const candidate of candidates) {
      // The command setting and PATH are taken as they are; an interpreter is used only when
      // it has Handrail, since most interpreters will not.
      const isInterpreter = candidate.source === "interpreter" || candidate.source === "python";
      if (!isInterpreter || (await hasHandrail(candidate.command, place))) {
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
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(
        "Handrail: no language server in Restricted Mode. It starts only `handrail` from PATH outside the workspace here; trust the folder to use your settings and interpreter.",
      );
      return;
    }
    const message =
      "Handrail: the language server is not installed. Set handrail.server.command or handrail.server.python, select a Python interpreter that has Handrail, or install it.";
    if (interpreter === undefined) {
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
