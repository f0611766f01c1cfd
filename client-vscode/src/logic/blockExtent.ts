/**
 * The light gutter mark that shows a generated block's extent. The server puts a block's
 * findings on its begin marker only (a squiggle over the whole block buried the real errors
 * inside it), so the extent is drawn here: a thin bar beside every line of the block, in the
 * warning colour while a Handrail finding sits on its begin marker.
 */

import { BlockSpan } from "./blocks";

export interface LineRange {
  /** 0-based, inclusive. */
  startLine: number;
  endLine: number;
}

export interface BlockExtents {
  needsWork: LineRange[];
  settled: LineRange[];
}

/** `flaggedLines`: 0-based lines on which a Handrail diagnostic starts. */
export function blockExtents(spans: BlockSpan[], flaggedLines: Set<number>): BlockExtents {
  const extents: BlockExtents = { needsWork: [], settled: [] };
  for (const span of spans) {
    const range = { startLine: span.beginLine - 1, endLine: span.endLine - 1 };
    (flaggedLines.has(range.startLine) ? extents.needsWork : extents.settled).push(range);
  }
  return extents;
}
