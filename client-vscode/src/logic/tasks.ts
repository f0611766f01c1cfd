// What the task pickers and the Edit/Close/Reopen Task commands show, from
// `handrail.listTasks`, `handrail.editTask` and `handrail.closeTask` (no VS Code needed).
import { blockAt, taskOfBlock } from "./blocks";
import {
  EditTaskResult,
  ListTasksResult,
  TaskJson,
  TaskStatusResult,
  ValidateSpecResult,
} from "./protocol";

export const LIST_TASKS = "handrail.listTasks";
export const EDIT_TASK = "handrail.editTask";
export const CLOSE_TASK = "handrail.closeTask";
export const REOPEN_TASK = "handrail.reopenTask";
export const DECOMPOSE = "handrail.decompose";

/** Whether a draft spec is refused as too long, so that "Decompose" should be offered. */
export function offersDecompose(result: ValidateSpecResult): boolean {
  return !result.empty && result.sentences.length > result.hard_max_sentences;
}

/** The sub-task specs the user kept: edited drafts, blank ones dropped. */
export function keptDrafts(edited: readonly string[]): string[] {
  return edited.map((draft) => draft.trim()).filter((draft) => draft.length > 0);
}

export interface TaskPickItem {
  label: string;
  description: string;
  detail?: string;
  task: string;
}

/**
 * Picker items for `which` tasks: open ones (every picker that starts work) or closed ones
 * (Reopen Task). A closed task is never offered where work would start: the server leaves
 * them out already, and this holds even against an older server that lists every task.
 */
export function taskPickItems(result: ListTasksResult, which: "open" | "closed"): TaskPickItem[] {
  return (
    result.tasks
      // A decomposed parent is worked on through its sub-tasks: pickers that start work skip it.
      .filter((task) =>
        which === "open" ? task.status === "open" && !task.decomposed : task.status !== "open",
      )
      .map((task) => ({
        label: task.task,
        description: which === "open" ? task.title : `${task.status}: ${task.title}`,
        detail: which === "closed" && task.note !== null ? task.note : undefined,
        task: task.task,
      }))
  );
}

export interface CloseChoice {
  label: string;
  detail: string;
  reason: "done" | "abandoned";
}

export const CLOSE_CHOICES: readonly CloseChoice[] = [
  {
    label: "Done",
    detail: "The work is finished. Its unverified blocks are reported (HR315).",
    reason: "done",
  },
  {
    label: "Abandoned",
    detail: "It was given up. Its spec no longer gates; remove any blocks it left.",
    reason: "abandoned",
  },
];

export type EditField = "spec" | "context" | "verify";

export const EDIT_CHOICES: readonly { label: string; detail: string; field: EditField }[] = [
  { label: "Spec", detail: "Checked as you type, as for a new task.", field: "spec" },
  { label: "Context", detail: "The files the model needs (replaces the list).", field: "context" },
  {
    label: "Verification command",
    detail: "Empty: the workflow's command.",
    field: "verify",
  },
];

export interface Outcome {
  ok: boolean;
  message: string;
}

/** What to tell the user after `handrail.editTask`. */
export function editOutcome(result: EditTaskResult): Outcome {
  if (!result.written) {
    const reasons = result.findings.map((finding) => `${finding.code} ${finding.message}`);
    return { ok: false, message: `task ${result.task} was not changed. ${reasons.join(" ")}` };
  }
  const reopened = result.reopened_blocks;
  if (result.spec_changed && reopened.length > 0) {
    const blocks = reopened.join(", ");
    const them = reopened.length === 1 ? "it" : "them";
    return {
      ok: true,
      message:
        `task ${result.task} has a new spec. Generated under the earlier one, re-opened ` +
        `(HR314): ${blocks}. Verify and explain ${them} again, or regenerate ${them}.`,
    };
  }
  return { ok: true, message: `task ${result.task} updated.` };
}

/** What to tell the user after `handrail.closeTask` or `handrail.reopenTask`. */
export function statusOutcome(result: TaskStatusResult): string {
  return result.status === "open"
    ? `task ${result.task} is open again.`
    : `task ${result.task} closed (${result.status}).`;
}

/** The context list typed as one line: entries separated by commas or spaces. */
export function parseContextLine(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/** A task's context as the one-line input shows it. */
export function contextLine(task: TaskJson): string {
  return task.context.join(", ");
}

/**
 * The block a chat answer for `task` may replace: the block of that task under the cursor
 * (1-based `line`) of the editor in front, else undefined (the answer is only inserted).
 */
export function replaceableBlock(text: string, line: number, task: string): string | undefined {
  const block = blockAt(text, line);
  return block !== undefined && taskOfBlock(block.id) === task ? block.id : undefined;
}
