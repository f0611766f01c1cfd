// The @handrail chat participant: /task, /context and /generate through the workflow's gate,
// and "Insert as generated block" for the code of an answer.
import * as vscode from "vscode";
import { replaceableBlock } from "./logic/tasks";
import {
  contextEntry,
  contextMarkdown,
  findingLines,
  generateRefusal,
  helpMarkdown,
  specRefusal,
  specWarnings,
  taskFromPrompt,
  withoutRanges,
} from "./logic/chat";
import { extractCode } from "./logic/extract";
import { NOTE_COMMAND, noteFromPrompt } from "./logic/note";
import {
  CheckContextResult,
  InsertGeneratedResult,
  NewTaskResult,
  PromptResult,
  ValidateSpecResult,
} from "./logic/protocol";
import { ServerController } from "./server";
import { ActiveTask } from "./tasks";

export const PARTICIPANT_ID = "handrail.chat";
export const INSERT_GENERATED = "handrail.chat.insertGenerated";
const SERVER_INSERT = "handrail.insertGenerated";

/** What the "Insert as generated block" button carries. */
export interface InsertArgument {
  task: string;
  code: string;
  /** A block of `task` this attempt replaces (the old one is recorded as discarded). */
  replace?: string;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstFolder(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

/** The workspace-relative context entries of the files and ranges attached with `#file`. */
function contextFromReferences(references: readonly vscode.ChatPromptReference[]): string[] {
  const entries: string[] = [];
  for (const reference of references) {
    const value = reference.value;
    const uri =
      value instanceof vscode.Uri
        ? value
        : value instanceof vscode.Location
          ? value.uri
          : undefined;
    if (uri?.scheme !== "file" || vscode.workspace.getWorkspaceFolder(uri) === undefined) {
      continue;
    }
    const relative = vscode.workspace.asRelativePath(uri, false);
    entries.push(
      value instanceof vscode.Location
        ? contextEntry(relative, value.range.start.line + 1, value.range.end.line + 1)
        : contextEntry(relative),
    );
  }
  return [...new Set(entries)];
}

/** The prompt without the text of its `#file` references: what the user wrote as the spec. */
function promptWithoutReferences(request: vscode.ChatRequest): string {
  const ranges = request.references
    .map((reference) => reference.range)
    .filter((range): range is [number, number] => range !== undefined);
  return withoutRanges(request.prompt, ranges);
}

export class HandrailChat {
  constructor(
    private readonly server: ServerController,
    private readonly active: ActiveTask,
  ) {}

  readonly handler: vscode.ChatRequestHandler = async (request, _context, stream, token) => {
    try {
      switch (request.command) {
        case "task":
          return await this.task(request, stream);
        case "context":
          return await this.context(request, stream);
        case "generate":
          return await this.generate(request, stream, token);
        case "note":
          return await this.note(request, stream);
        default:
          stream.markdown(helpMarkdown(this.active.current()));
          return { metadata: { command: "help" } };
      }
    } catch (error) {
      // The chat view shows errorDetails as the response's error (a server error, no server).
      return {
        errorDetails: { message: `Handrail: ${errorText(error)}` },
        metadata: { command: request.command },
      };
    }
  };

  private async task(
    request: vscode.ChatRequest,
    stream: vscode.ChatResponseStream,
  ): Promise<vscode.ChatResult> {
    const spec = promptWithoutReferences(request);
    if (spec.length === 0) {
      stream.markdown(
        "Usage: `/task <spec>`, the spec in two sentences such as `Given <inputs>, return <outputs>. It must <the constraint that matters> and follow the pattern of <existing code>.` Attach the files the model needs with `#file` (or the file offered in the chat input).",
      );
      return { metadata: { command: "task" } };
    }
    const folder = firstFolder();
    const args: Record<string, unknown> = { spec };
    if (folder !== undefined) {
      args.folder = folder.toString();
    }
    stream.progress("Checking the spec against the workflow…");
    const checked = await this.server.execute<ValidateSpecResult>("handrail.validateSpec", args);
    if (!checked.ok) {
      stream.markdown(specRefusal(checked));
      return { metadata: { command: "task", refused: true } };
    }
    const context = contextFromReferences(request.references);
    const created = await this.server.execute<NewTaskResult>("handrail.newTask", {
      ...args,
      context,
    });
    if (created.task === null) {
      stream.markdown(
        ["**No task was created.**", "", ...findingLines(created.findings)].join("\n"),
      );
      return { metadata: { command: "task", refused: true } };
    }
    await this.active.set(created.task);
    stream.markdown(
      `Created task **${created.task}**; it is now the active task. ` +
        (context.length > 0
          ? `Context: ${context.map((entry) => `\`${entry}\``).join(", ")}.`
          : "It has no context yet: add files to its task file or with *Add to Handrail Context*.") +
        "\n\n",
    );
    const warnings = specWarnings(checked);
    if (warnings.length > 0) {
      stream.markdown(["The spec passes, with:", ...warnings, "", ""].join("\n"));
    }
    if (created.uri !== null && created.uri.length > 0) {
      stream.anchor(vscode.Uri.parse(created.uri), created.path ?? undefined);
      stream.markdown("\n\nNext: `/context` to check the context, `/generate` to generate.");
    }
    return { metadata: { command: "task", task: created.task } };
  }

  private async note(
    request: vscode.ChatRequest,
    stream: vscode.ChatResponseStream,
  ): Promise<vscode.ChatResult> {
    const argument = noteFromPrompt(request.prompt);
    if (typeof argument === "string") {
      stream.markdown(argument);
      return { metadata: { command: "note" } };
    }
    const folder = firstFolder();
    const args: Record<string, unknown> = { ...argument };
    if (folder !== undefined) {
      args.folder = folder.toString();
    }
    const result = await this.server.execute<{ message: string }>(NOTE_COMMAND, args);
    stream.markdown(result.message);
    return { metadata: { command: "note" } };
  }

  private taskOrHelp(
    request: vscode.ChatRequest,
    stream: vscode.ChatResponseStream,
  ): string | undefined {
    const task = taskFromPrompt(request.prompt, this.active.current());
    if (task === undefined) {
      stream.markdown(
        "There is no active task: create one with `/task <spec>`, open a task file, or name the task (`/" +
          (request.command ?? "generate") +
          " k3f7qa`).",
      );
    }
    return task;
  }

  private async context(
    request: vscode.ChatRequest,
    stream: vscode.ChatResponseStream,
  ): Promise<vscode.ChatResult> {
    const task = this.taskOrHelp(request, stream);
    if (task === undefined) {
      return { metadata: { command: "context" } };
    }
    stream.progress(`Counting the tokens of ${task}'s context…`);
    const args: Record<string, unknown> = { task };
    const folder = firstFolder();
    if (folder !== undefined) {
      args.folder = folder.toString();
    }
    const result = await this.server.execute<CheckContextResult>("handrail.checkContext", args);
    stream.markdown(contextMarkdown(result));
    return { metadata: { command: "context", task } };
  }

  private async generate(
    request: vscode.ChatRequest,
    stream: vscode.ChatResponseStream,
    token: vscode.CancellationToken,
  ): Promise<vscode.ChatResult> {
    const task = this.taskOrHelp(request, stream);
    if (task === undefined) {
      return { metadata: { command: "generate" } };
    }
    stream.progress(`Checking the spec and the context of ${task}…`);
    const args: Record<string, unknown> = { task };
    const folder = firstFolder();
    if (folder !== undefined) {
      args.folder = folder.toString();
    }
    // Where "Insert" puts the answer: the cursor of the editor in front, or the block of this
    // task under it that "Replace" discards. The pack names the file and shows the place, so
    // the model writes code for that spot (issue 13.5).
    const editor = vscode.window.activeTextEditor;
    const replace =
      editor === undefined
        ? undefined
        : replaceableBlock(editor.document.getText(), editor.selection.active.line + 1, task);
    if (editor !== undefined && editor.document.uri.scheme === "file") {
      args.uri = editor.document.uri.toString();
      args.line = editor.selection.active.line + 1;
      if (replace !== undefined) {
        args.replace = replace;
      }
    }
    const pack = await this.server.execute<PromptResult>("handrail.prompt", args);
    if (pack.refused || pack.prompt === null) {
      // The gate: nothing reaches the model while a check fails.
      stream.markdown(generateRefusal(task, pack.findings));
      return { metadata: { command: "generate", task, refused: true } };
    }
    const temperature = pack.temperature;
    stream.progress(
      `Sending the prompt pack of ${task} to ${request.model.name} at temperature ${temperature}…`,
    );
    const options: vscode.LanguageModelChatRequestOptions = {
      justification: `Handrail sends the checked prompt pack of task ${task}.`,
      modelOptions: { temperature },
    };
    let answer = "";
    try {
      const response = await request.model.sendRequest(
        [vscode.LanguageModelChatMessage.User(pack.prompt)],
        options,
        token,
      );
      for await (const fragment of response.text) {
        answer += fragment;
        stream.markdown(fragment);
      }
    } catch (error) {
      const message =
        error instanceof vscode.LanguageModelError
          ? `the model refused or failed (${error.code}): ${error.message}`
          : errorText(error);
      return {
        errorDetails: { message: `Handrail: ${message}` },
        metadata: { command: "generate", task },
      };
    }
    if (token.isCancellationRequested) {
      return { metadata: { command: "generate", task, cancelled: true } };
    }
    const target = vscode.window.activeTextEditor?.document.uri;
    const code = extractCode(answer, target?.scheme === "file" ? target.path : undefined);
    if (code === undefined) {
      stream.markdown("\n\nThe answer has no fenced code block: there is nothing to insert.");
      return { metadata: { command: "generate", task } };
    }
    const argument: InsertArgument = { task, code };
    stream.markdown("\n\n");
    stream.button({
      command: INSERT_GENERATED,
      title: "Insert as generated block",
      tooltip: `Insert the code at the cursor, wrapped in handrail markers for ${task}, and record it`,
      arguments: [argument],
    });
    // The follow-up of a failed attempt: replace the block under the cursor with this one.
    if (replace !== undefined) {
      stream.button({
        command: INSERT_GENERATED,
        title: `Replace block ${replace} with this attempt`,
        tooltip: `Discard ${replace} (recorded as a failed attempt) and insert this code as the next block of ${task}`,
        arguments: [{ ...argument, replace }],
      });
    }
    return { metadata: { command: "generate", task } };
  }
}

function isInsertArgument(value: unknown): value is InsertArgument {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const record = value as Record<string, unknown>;
  return typeof record.task === "string" && typeof record.code === "string";
}

/** Where the code goes: the cursor of the editor in front, else the end of a file the user picks. */
async function insertionTarget(): Promise<{ uri: vscode.Uri; line?: number } | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (editor !== undefined && editor.document.uri.scheme === "file") {
    return { uri: editor.document.uri, line: editor.selection.active.line + 1 };
  }
  const picked = await vscode.window.showOpenDialog({
    title: "Insert the generated block at the end of which file?",
    canSelectMany: false,
    defaultUri: firstFolder(),
    openLabel: "Insert here",
  });
  const uri = picked?.[0];
  return uri === undefined ? undefined : { uri };
}

/** "Insert as generated block": the server wraps the code in markers, edits and records. */
export async function insertGenerated(
  server: ServerController,
  active: ActiveTask,
  argument: unknown,
): Promise<void> {
  if (!isInsertArgument(argument)) {
    void vscode.window.showErrorMessage("Handrail: this button carries no generated code.");
    return;
  }
  const target = await insertionTarget();
  if (target === undefined) {
    return;
  }
  try {
    // The server edits open documents only; opening is a no-op when it already is.
    const document = await vscode.workspace.openTextDocument(target.uri);
    const args: Record<string, unknown> = {
      uri: document.uri.toString(),
      task: argument.task,
      code: argument.code,
    };
    if (typeof argument.replace === "string") {
      args.replace = argument.replace;
    } else if (target.line !== undefined) {
      args.line = target.line;
    }
    const result = await server.execute<InsertGeneratedResult>(SERVER_INSERT, args);
    if (!result.applied) {
      void vscode.window.showWarningMessage(
        `Handrail: the code was not inserted${result.reason === undefined ? "" : `: ${result.reason}`}.`,
      );
      return;
    }
    await active.set(argument.task);
    const editor = await vscode.window.showTextDocument(document);
    const position = new vscode.Position(result.begin_line - 1, 0);
    editor.selection = new vscode.Selection(position, position);
    editor.revealRange(new vscode.Range(position, position));
    void vscode.window.showInformationMessage(
      `Handrail: inserted block ${result.block} (lines ${result.begin_line}-${result.end_line} of ${result.path}); verify it before review.`,
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`Handrail: ${errorText(error)}`);
  }
}

export function registerChat(
  context: vscode.ExtensionContext,
  server: ServerController,
  active: ActiveTask,
): void {
  const chat = new HandrailChat(server, active);
  const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, chat.handler);
  participant.iconPath = new vscode.ThemeIcon("checklist");
  context.subscriptions.push(
    participant,
    vscode.commands.registerCommand(INSERT_GENERATED, (argument: unknown) =>
      insertGenerated(server, active, argument),
    ),
  );
}
