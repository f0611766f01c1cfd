// The status bar's text and tooltip, from what the extension knows at the moment.

import { BlockStatesJson, blocksStatusPart, blocksTooltip } from "./blockStates";
import { budgetText } from "./context";

export interface StatusState {
  task: string | undefined;
  totalTokens: number | undefined;
  maxTokens: number | undefined;
  /** Each block's state from the gate's findings; undefined until the first check. */
  blocks: BlockStatesJson | undefined;
}

export function statusText(state: StatusState): string {
  const parts: string[] = ["$(checklist) Handrail"];
  if (state.task !== undefined) {
    parts.push(state.task);
    if (state.totalTokens !== undefined && state.maxTokens !== undefined) {
      parts.push(budgetText(state.totalTokens, state.maxTokens));
    }
  }
  if (state.blocks !== undefined) {
    parts.push(blocksStatusPart(state.blocks));
  }
  return parts.join(" · ");
}

export function statusTooltip(state: StatusState): string {
  const task = state.task === undefined ? "No active task." : `Active task ${state.task}.`;
  const tokens =
    state.totalTokens !== undefined && state.maxTokens !== undefined
      ? ` Its context holds ${state.totalTokens} of ${state.maxTokens} tokens.`
      : "";
  const blocks = state.blocks === undefined ? "" : ` ${blocksTooltip(state.blocks)}`;
  return `${task}${tokens}${blocks}`;
}
