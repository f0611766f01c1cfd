// The status bar's text and tooltip, from what the extension knows at the moment.

import { budgetText } from "./context";

export interface StatusState {
  task: string | undefined;
  totalTokens: number | undefined;
  maxTokens: number | undefined;
  unverified: number | undefined;
}

export function statusText(state: StatusState): string {
  const parts: string[] = ["$(checklist) Handrail"];
  if (state.task !== undefined) {
    parts.push(state.task);
    if (state.totalTokens !== undefined && state.maxTokens !== undefined) {
      parts.push(budgetText(state.totalTokens, state.maxTokens));
    }
  }
  if (state.unverified !== undefined) {
    parts.push(`${state.unverified} unverified`);
  }
  return parts.join(" · ");
}

export function statusTooltip(state: StatusState): string {
  const task = state.task === undefined ? "No active task." : `Active task ${state.task}.`;
  const tokens =
    state.totalTokens !== undefined && state.maxTokens !== undefined
      ? ` Its context holds ${state.totalTokens} of ${state.maxTokens} tokens.`
      : "";
  const blocks =
    state.unverified === undefined
      ? ""
      : ` ${state.unverified} generated block${state.unverified === 1 ? " has" : "s have"} not been verified; click to list them.`;
  return `${task}${tokens}${blocks}`;
}
