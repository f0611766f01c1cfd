/**
 * What the status bar, "Show Blocks That Need Work" and every summary say about generated
 * blocks. The server groups the gate's own findings by block (`blocks` in `handrail.check`'s
 * answer), so a failing block is counted as failing, not hidden behind "0 unverified", and
 * "every generated block is verified" is said only when the gate reports nothing on any block.
 */

import { blocksInState } from "./plural";
import { BlockStateJson, BlockStatesJson } from "./protocol.generated";

// `handrail.check`'s `blocks`, as the server's types say (protocol.generated.ts).
export type { BlockStateJson, BlockStatesJson } from "./protocol.generated";

export const ALL_VERIFIED = "every generated block is verified.";

function countsText(counts: Record<string, number>, separator: string): string {
  return Object.entries(counts)
    .map(([state, count]) => blocksInState(count, state))
    .join(separator);
}

/** The status bar's part: "1 failing · 2 unverified", at most two states and "+N more". */
export function blocksStatusPart(states: BlockStatesJson): string {
  const entries = Object.entries(states.counts);
  if (entries.length === 0) {
    return "$(pass) blocks";
  }
  const shown = entries.slice(0, 2).map(([state, count]) => blocksInState(count, state));
  const more = entries.length - shown.length;
  return more > 0 ? `${shown.join(" · ")} · +${more} more` : shown.join(" · ");
}

export function blocksTooltip(states: BlockStatesJson): string {
  if (states.blocks.length === 0) {
    return "The gate reports nothing on any generated block.";
  }
  const stop =
    states.blocking === 0
      ? "none stops the gate"
      : `${states.blocking} stop${states.blocking === 1 ? "s" : ""} the gate`;
  return `Generated blocks: ${countsText(states.counts, ", ")} (${stop}); click to list them.`;
}

/**
 * The sentence shown when the list is asked for. `undefined` when there are blocks to list;
 * the all-clear only when no block has any finding at all.
 */
export function blocksSummaryMessage(states: BlockStatesJson): string | undefined {
  return states.blocks.length === 0 ? ALL_VERIFIED : undefined;
}

/** The quick pick's title: what the list holds, by state. */
export function blocksListTitle(states: BlockStatesJson): string {
  const what =
    states.blocking === 0 ? "Generated blocks with warnings" : "Generated blocks that need work";
  return `${what}: ${countsText(states.counts, ", ")}`;
}

export interface BlockItem {
  label: string;
  description: string;
  detail: string;
  block: BlockStateJson;
}

export function blockItems(states: BlockStatesJson): BlockItem[] {
  return states.blocks.map((block) => ({
    label: `${block.blocking ? "$(error)" : "$(warning)"} ${block.block}`,
    description: `${block.states.join(", ")} · ${block.path}:${block.line}`,
    detail: block.messages[0] ?? "",
    block,
  }));
}
