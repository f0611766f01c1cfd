// Language Model Tools for agent mode: check a spec, check a task's context, mark the lines
// the agent wrote as a generated block. Each goes through the same server command as the rest
// of the extension, so an agent sees the same findings as a person.
import * as path from "node:path";
import { insideAnyFolder } from "./logic/paths";
import { plural } from "./logic/plural";
import * as vscode from "vscode";
import { isTaskId } from "./logic/chat";
import {
  CheckContextResult,
  MarkSelectionResult,
  ValidateSpecResult,
  hasError,
} from "./logic/protocol";
import { ServerController } from "./server";
import { ActiveTask } from "./tasks";

export const CHECK_SPEC_TOOL = "handrail_checkSpec";
export const CHECK_CONTEXT_TOOL = "handrail_checkContext";
export const MARK_GENERATED_TOOL = "handrail_markGenerated";

interface CheckSpecInput {
  spec: string;
}
interface CheckContextInput {
  task: string;
}
interface MarkGeneratedInput {
  path: string;
  startLine: number;
  endLine: number;
  task: string;
}

function result(summary: string, details: unknown): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult([
    new vscode.LanguageModelTextPart(summary),
    new vscode.LanguageModelTextPart(JSON.stringify(details)),
  ]);
}

function folderArgs(): Record<string, unknown> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder === undefined ? {} : { folder: folder.toString() };
}

function requireTask(task: unknown): string {
  if (typeof task !== "string" || !isTaskId(task)) {
    throw new Error(
      `${JSON.stringify(task)} is not a Handrail task id (6 characters from a-z and 2-7, the file name in .handrail/tasks/).`,
    );
  }
  return task;
}

/**
 * The file an agent names: absolute, or relative to the first workspace folder. Either way it
 * must lie inside a workspace folder: an agent never marks (or opens) files elsewhere, e.g.
 * `../other-repo/x.py`, which the server would otherwise take as a folder of its own.
 */
function resolveWorkspacePath(file: string): vscode.Uri {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const first = folders[0];
  if (first === undefined) {
    throw new Error("No workspace folder is open.");
  }
  const uri = path.isAbsolute(file)
    ? vscode.Uri.file(path.normalize(file))
    : vscode.Uri.joinPath(first.uri, ...file.split(/[\\/]+/).filter((part) => part.length > 0));
  const inside = insideAnyFolder(
    folders.map((folder) => folder.uri.fsPath),
    uri.fsPath,
  );
  if (!inside) {
    throw new Error(
      `${file} is not inside a workspace folder: Handrail marks only workspace files.`,
    );
  }
  return uri;
}

class CheckSpecTool implements vscode.LanguageModelTool<CheckSpecInput> {
  constructor(private readonly server: ServerController) {}

  prepareInvocation(): vscode.PreparedToolInvocation {
    return { invocationMessage: "Checking the spec against the Handrail workflow" };
  }

  async invoke(
    options: vscode.LanguageModelToolInvocationOptions<CheckSpecInput>,
  ): Promise<vscode.LanguageModelToolResult> {
    const spec = options.input.spec;
    if (typeof spec !== "string") {
      throw new Error('"spec" must be the spec as one string.');
    }
    const checked = await this.server.execute<ValidateSpecResult>("handrail.validateSpec", {
      spec,
      ...folderArgs(),
    });
    const count = checked.sentences.length;
    const summary = checked.ok
      ? `The spec passes (${plural(count, "sentence")}; limit ${checked.max_sentences}).`
      : count > checked.hard_max_sentences
        ? `The spec does not pass: ${plural(count, "sentence")}, past the hard limit of ${checked.hard_max_sentences}. Decompose the work into smaller tasks, each with its own short spec; do not generate code for this one.`
        : "The spec does not pass: fix the error findings and check again before generating code.";
    return result(summary, {
      ok: checked.ok,
      sentences: count,
      max_sentences: checked.max_sentences,
      hard_max_sentences: checked.hard_max_sentences,
      missing: checked.missing,
      findings: checked.findings.map(({ code, severity, message }) => ({
        code,
        severity,
        message,
      })),
    });
  }
}

class CheckContextTool implements vscode.LanguageModelTool<CheckContextInput> {
  constructor(private readonly server: ServerController) {}

  prepareInvocation(
    options: vscode.LanguageModelToolInvocationPrepareOptions<CheckContextInput>,
  ): vscode.PreparedToolInvocation {
    return {
      invocationMessage: `Checking the context of Handrail task ${options.input.task}`,
    };
  }

  async invoke(
    options: vscode.LanguageModelToolInvocationOptions<CheckContextInput>,
  ): Promise<vscode.LanguageModelToolResult> {
    const task = requireTask(options.input.task);
    const report = await this.server.execute<CheckContextResult>("handrail.checkContext", {
      task,
      ...folderArgs(),
    });
    const passed = !hasError(report.findings);
    const summary =
      `The context of ${task} ${passed ? "passes" : "does not pass"}: ${report.total_tokens} of ${report.max_tokens} tokens ` +
      `(${report.encoding}), ${report.entries.length} of at most ${report.max_files} files.` +
      (report.drop.length > 0 ? ` Dropping ${report.drop.join(", ")} would fit the budget.` : "");
    return result(summary, {
      passed,
      task,
      encoding: report.encoding,
      total_tokens: report.total_tokens,
      max_tokens: report.max_tokens,
      max_files: report.max_files,
      entries: report.entries.map(({ entry, tokens, status }) => ({ entry, tokens, status })),
      drop: report.drop,
      findings: report.findings.map(({ code, severity, message }) => ({ code, severity, message })),
    });
  }
}

class MarkGeneratedTool implements vscode.LanguageModelTool<MarkGeneratedInput> {
  constructor(
    private readonly server: ServerController,
    private readonly active: ActiveTask,
  ) {}

  prepareInvocation(
    options: vscode.LanguageModelToolInvocationPrepareOptions<MarkGeneratedInput>,
  ): vscode.PreparedToolInvocation {
    const { path: file, startLine, endLine, task } = options.input;
    const range = `${file}:${startLine}-${endLine}`;
    return {
      invocationMessage: `Marking ${range} as generated for task ${task}`,
      confirmationMessages: {
        title: "Mark these lines as generated?",
        message: new vscode.MarkdownString(
          `Wrap lines ${startLine}–${endLine} of \`${file}\` in \`handrail:begin\`/\`handrail:end\` markers for task **${task}** and record the block in the ledger. The block then waits for verification and review.`,
        ),
      },
    };
  }

  async invoke(
    options: vscode.LanguageModelToolInvocationOptions<MarkGeneratedInput>,
  ): Promise<vscode.LanguageModelToolResult> {
    const { path: file, startLine, endLine } = options.input;
    const task = requireTask(options.input.task);
    if (typeof file !== "string" || file.length === 0) {
      throw new Error('"path" must name the file, relative to the workspace folder.');
    }
    if (
      !Number.isInteger(startLine) ||
      !Number.isInteger(endLine) ||
      startLine < 1 ||
      endLine < startLine
    ) {
      throw new Error(
        '"startLine" and "endLine" must be 1-based line numbers with startLine <= endLine.',
      );
    }
    // The server marks open documents only, at the version it was given.
    const document = await vscode.workspace.openTextDocument(resolveWorkspacePath(file));
    if (endLine > document.lineCount) {
      throw new Error(
        `${file} has ${document.lineCount} lines; endLine ${endLine} is past its end.`,
      );
    }
    const marked = await this.server.execute<MarkSelectionResult>("handrail.markSelection", {
      uri: document.uri.toString(),
      startLine,
      endLine,
      task,
      version: document.version,
    });
    if (!marked.applied) {
      return result(
        `Nothing was marked${marked.reason === undefined ? "." : `: ${marked.reason}`}`,
        marked,
      );
    }
    await this.active.set(task);
    return result(
      `Marked ${marked.path} lines ${marked.begin_line}-${marked.end_line} (markers included) as block ${marked.block} of task ${task}. The file changed: line numbers after the start moved by one, and by two after the end.`,
      {
        block: marked.block,
        path: marked.path,
        begin_line: marked.begin_line,
        end_line: marked.end_line,
      },
    );
  }
}

export function registerTools(
  context: vscode.ExtensionContext,
  server: ServerController,
  active: ActiveTask,
): void {
  context.subscriptions.push(
    vscode.lm.registerTool(CHECK_SPEC_TOOL, new CheckSpecTool(server)),
    vscode.lm.registerTool(CHECK_CONTEXT_TOOL, new CheckContextTool(server)),
    vscode.lm.registerTool(MARK_GENERATED_TOOL, new MarkGeneratedTool(server, active)),
  );
}
