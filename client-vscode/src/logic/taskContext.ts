// Adding files to a task's `context = [...]` list from VS Code. The server makes the edit
// (`handrail.editTaskContext`: the engine's one editor of the list, in the list's own layout,
// the same for every editor) and the extension applies it; what is left here is pure: the
// command's argument and what the user is told about its answer.
import { EditTaskContextResult } from "./protocol";

export const EDIT_TASK_CONTEXT = "handrail.editTaskContext";

/** A workspace-relative path as a context entry: forward slashes on every system. */
export function contextEntry(relativePath: string): string {
  return relativePath.replace(/\\/g, "/");
}

/** The command's argument: the task file and the entries to add, each once, in order. */
export function editTaskContextArgument(
  taskFileUri: string,
  entries: readonly string[],
): { uri: string; add: string[] } {
  return { uri: taskFileUri, add: [...new Set(entries)] };
}

export type ContextOutcome =
  { kind: "apply"; message: string } | { kind: "present"; message: string };

/** Whether there is an edit to apply, and the message to show once it is (or is not). */
export function contextOutcome(result: EditTaskContextResult, task: string): ContextOutcome {
  if (result.edit === null || result.added.length === 0) {
    return { kind: "present", message: `Handrail: already in the context of task ${task}.` };
  }
  return {
    kind: "apply",
    message: `Handrail: added ${result.added.join(", ")} to the context of task ${task}.`,
  };
}
