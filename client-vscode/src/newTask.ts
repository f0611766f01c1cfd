// "New AI Task": spec (validated as you type) -> context files -> context check -> prompt pack.
import { execFile } from "node:child_process";
import * as vscode from "vscode";
import {
  budgetLine,
  candidateDescription,
  CONTEXT_CANDIDATES,
  selectionTotal,
} from "./logic/candidates";
import { contextSummary } from "./logic/context";
import {
  CheckContextResult,
  ContextCandidateJson,
  ContextCandidatesResult,
  DecomposeResult,
  NewTaskResult,
  PromptResult,
  ValidateSpecResult,
} from "./logic/protocol";
import { DEFAULT_SPEC_TEMPLATE, MessageSeverity, specAccepted, specMessage } from "./logic/spec";
import { ServerController, trustedProgram } from "./server";
import { DECOMPOSE, keptDrafts, offersDecompose } from "./logic/tasks";
import { ActiveTask } from "./tasks";

const SEVERITY: Record<MessageSeverity, vscode.InputBoxValidationSeverity> = {
  error: vscode.InputBoxValidationSeverity.Error,
  warning: vscode.InputBoxValidationSeverity.Warning,
  info: vscode.InputBoxValidationSeverity.Info,
};

/** Asks for the spec until the server accepts it; undefined when the user gives up. */
export function askSpec(
  server: ServerController,
  folder: vscode.Uri,
  title = "New AI Task (1/3): the spec",
  initial = "",
  onDecompose?: (spec: string) => void,
): Promise<string | undefined> {
  const box = vscode.window.createInputBox();
  box.title = title;
  box.value = initial;
  box.prompt =
    "What must the code do? Inputs, outputs, the constraint that matters, the pattern to follow.";
  box.placeholder = DEFAULT_SPEC_TEMPLATE;
  box.ignoreFocusOut = true;
  let latest: ValidateSpecResult | undefined;
  let latestText = "";
  let sequence = 0;

  const validate = async (text: string): Promise<void> => {
    const mine = ++sequence;
    try {
      const result = await server.execute<ValidateSpecResult>("handrail.validateSpec", {
        spec: text,
        folder: folder.toString(),
      });
      // Answers can come back out of order while the user types: keep only the newest.
      if (mine !== sequence) {
        return;
      }
      latest = result;
      latestText = text;
      const message = specMessage(result);
      box.validationMessage =
        message === undefined
          ? undefined
          : { message: message.message, severity: SEVERITY[message.severity] };
    } catch (error) {
      if (mine === sequence) {
        // Shown as an error, so it must stop Enter too: an older answer no longer counts.
        latest = undefined;
        box.validationMessage = {
          message: `Handrail could not check the spec: ${String(error)}`,
          severity: vscode.InputBoxValidationSeverity.Error,
        };
      }
    }
  };

  return new Promise((resolve) => {
    let done = false;
    box.onDidChangeValue((text) => void validate(text));
    if (initial.length > 0) {
      void validate(initial);
    }
    box.onDidAccept(async () => {
      if (latestText !== box.value || latest === undefined) {
        await validate(box.value);
      }
      if (latest !== undefined && specAccepted(latest)) {
        done = true;
        resolve(box.value);
        box.hide();
      } else if (latest !== undefined && onDecompose !== undefined && offersDecompose(latest)) {
        // Past the hard limit no rewording helps: offer to split it into sub-tasks.
        const spec = box.value;
        done = true;
        resolve(undefined);
        box.hide();
        onDecompose(spec);
      }
    });
    box.onDidHide(() => {
      if (!done) {
        resolve(undefined);
      }
      box.dispose();
    });
    box.show();
  });
}

/** The files git does not ignore (tracked and untracked), else everything VS Code searches. */
async function workspaceFiles(folder: vscode.Uri): Promise<string[]> {
  const git = trustedProgram("git");
  const fromGit = await new Promise<string[] | undefined>((resolve) => {
    if (git === undefined) {
      resolve(undefined);
      return;
    }
    // No repository config may run a program while we only list files (as in the server).
    execFile(
      git,
      [
        "-c",
        "core.fsmonitor=false",
        "ls-files",
        "--cached",
        "--others",
        "--exclude-standard",
        "-z",
      ],
      { cwd: folder.fsPath, maxBuffer: 64 * 1024 * 1024, timeout: 20_000 },
      (error, stdout) => {
        resolve(error === null ? stdout.split("\0").filter((name) => name.length > 0) : undefined);
      },
    );
  });
  if (fromGit !== undefined) {
    return fromGit.filter((name) => !name.startsWith(".handrail/")).sort();
  }
  const found = await vscode.workspace.findFiles(
    new vscode.RelativePattern(folder, "**/*"),
    "{**/.git/**,**/node_modules/**,**/.handrail/**}",
    5000,
  );
  return found.map((uri) => vscode.workspace.asRelativePath(uri, false)).sort();
}

const CONTEXT_TITLE = "New AI Task (2/3): the files the model needs";
const CONTEXT_PLACEHOLDER =
  "The code to change, the interfaces it calls, one example of the pattern";

/** Today's picker: the files git does not ignore, without counts (an older server). */
async function pickContextPlain(folder: vscode.Uri): Promise<string[] | undefined> {
  const files = await workspaceFiles(folder);
  const picked = await vscode.window.showQuickPick(
    files.map((file) => ({ label: file })),
    {
      title: `${CONTEXT_TITLE} to see`,
      placeHolder: CONTEXT_PLACEHOLDER,
      canPickMany: true,
      ignoreFocusOut: true,
    },
  );
  return picked?.map((item) => item.label);
}

interface CandidateItem extends vscode.QuickPickItem {
  file: ContextCandidateJson;
}

/** The server's candidates (ignored files left out) with tokens and the running total. */
function pickContextCounted(result: ContextCandidatesResult): Promise<string[] | undefined> {
  const pick = vscode.window.createQuickPick<CandidateItem>();
  pick.canSelectMany = true;
  pick.ignoreFocusOut = true;
  pick.matchOnDescription = false;
  pick.placeholder = result.truncated
    ? `${CONTEXT_PLACEHOLDER} (the first ${result.files.length} files)`
    : CONTEXT_PLACEHOLDER;
  pick.items = result.files.map((file) => ({
    label: file.path,
    description: candidateDescription(file),
    file,
  }));
  const update = (selected: readonly CandidateItem[]): void => {
    const total = selectionTotal(
      selected.map((item) => item.file),
      result,
    );
    pick.title = `${CONTEXT_TITLE} · ${budgetLine(total, result)}`;
  };
  update([]);
  return new Promise((resolve) => {
    let done = false;
    pick.onDidChangeSelection(update);
    pick.onDidAccept(() => {
      done = true;
      resolve(pick.selectedItems.map((item) => item.file.path));
      pick.hide();
    });
    pick.onDidHide(() => {
      if (!done) {
        resolve(undefined);
      }
      pick.dispose();
    });
    pick.show();
  });
}

async function pickContext(
  server: ServerController,
  folder: vscode.Uri,
): Promise<string[] | undefined> {
  if (server.advertised().includes(CONTEXT_CANDIDATES)) {
    let result: ContextCandidatesResult | undefined;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: "Handrail: counting tokens" },
        () =>
          server.execute<ContextCandidatesResult>(CONTEXT_CANDIDATES, {
            folder: folder.toString(),
          }),
      );
    } catch (error) {
      void vscode.window.showWarningMessage(
        `Handrail could not count the workspace files (${String(error)}); listing them without counts.`,
      );
    }
    if (result !== undefined) {
      return pickContextCounted(result);
    }
  }
  return pickContextPlain(folder);
}

async function showResult(
  server: ServerController,
  task: string,
  folder: vscode.Uri,
): Promise<void> {
  const context = await server.execute<CheckContextResult>("handrail.checkContext", {
    task,
    folder: folder.toString(),
  });
  const summary = contextSummary(context);
  const prompt = await server.execute<PromptResult>("handrail.prompt", {
    task,
    folder: folder.toString(),
  });
  const copy = "$(copy) Copy Prompt Pack";
  const items: vscode.QuickPickItem[] = [];
  if (summary.passed && !prompt.refused && prompt.prompt !== null) {
    items.push({
      label: copy,
      detail: `Paste it into your model at temperature ${prompt.temperature}.`,
    });
  } else {
    items.push({
      label: "$(error) The prompt pack is held back until spec and context pass",
      detail: "Fix the findings below (the task file shows them too), then run Show Task.",
    });
  }
  items.push(...summary.lines.map((line) => ({ label: line })));
  const picked = await vscode.window.showQuickPick(items, {
    title: `New AI Task (3/3): ${task}. ${summary.title}`,
    ignoreFocusOut: true,
  });
  if (picked?.label === copy && prompt.prompt !== null) {
    await vscode.env.clipboard.writeText(prompt.prompt);
    void vscode.window.showInformationMessage(
      `Handrail: the prompt pack of ${task} is on the clipboard. Mark what the model writes with "Mark Selection as Generated".`,
    );
  }
}

export async function newAiTask(server: ServerController, active: ActiveTask): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (folder === undefined) {
    void vscode.window.showWarningMessage("Handrail: open a folder first.");
    return;
  }
  let decompose: string | undefined;
  const spec = await askSpec(server, folder, undefined, undefined, (long) => {
    decompose = long;
  });
  if (decompose !== undefined) {
    await decomposeSpec(server, active, folder, decompose);
    return;
  }
  if (spec === undefined) {
    return;
  }
  const context = await pickContext(server, folder);
  if (context === undefined) {
    return;
  }
  const created = await server.execute<NewTaskResult>("handrail.newTask", {
    spec,
    context,
    folder: folder.toString(),
  });
  if (created.task === null) {
    const reasons = created.findings.map((finding) => finding.message).join(" ");
    void vscode.window.showErrorMessage(`Handrail: the task was not created. ${reasons}`);
    return;
  }
  await active.set(created.task);
  await showResult(server, created.task, folder);
}

export async function showTaskResult(server: ServerController, task: string): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (folder !== undefined) {
    await showResult(server, task, folder);
  }
}

/** "Decompose": one editable draft sub-task per sentence, created under a parent task. */
export async function decomposeSpec(
  server: ServerController,
  active: ActiveTask,
  folder: vscode.Uri,
  spec: string,
): Promise<void> {
  const choice = await vscode.window.showWarningMessage(
    "Handrail: this spec is past the hard sentence limit. Decompose it into sub-tasks, one per sentence (you can edit each)?",
    "Decompose",
  );
  if (choice !== "Decompose") {
    return;
  }
  try {
    const drafts = await server.execute<DecomposeResult>(DECOMPOSE, {
      spec,
      folder: folder.toString(),
    });
    const edited: string[] = [];
    for (const [index, draft] of drafts.drafts.entries()) {
      const text = await vscode.window.showInputBox({
        title: `Decompose (${index + 1}/${drafts.drafts.length}): sub-task spec`,
        prompt: "Edit it into a spec of its own (inputs, outputs, constraint); empty: drop it.",
        value: draft,
        ignoreFocusOut: true,
      });
      if (text === undefined) {
        return;
      }
      edited.push(text);
    }
    const context = await pickContext(server, folder);
    if (context === undefined) {
      return;
    }
    const made = await server.execute<DecomposeResult>(DECOMPOSE, {
      spec,
      subtasks: keptDrafts(edited),
      context,
      folder: folder.toString(),
    });
    if (made.parent === null) {
      const reasons = made.findings.flat().map((finding) => finding.message);
      void vscode.window.showErrorMessage(
        `Handrail: the sub-tasks were not created. ${reasons.join(" ")}`,
      );
      return;
    }
    const first = made.children[0];
    if (first !== undefined) {
      await active.set(first);
    }
    void vscode.window.showInformationMessage(
      `Handrail: created parent task ${made.parent} with sub-tasks ${made.children.join(", ")}. It is done when they all are.`,
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`Handrail: ${String(error)}`);
  }
}
