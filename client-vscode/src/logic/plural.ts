/**
 * Counts in words: "1 block", "2 blocks", never "1 lines" (issue 19: the status bar said
 * "1 lines no test ran"). One helper for every message, status text and summary.
 */

/** `count` and `one`, or its plural form (`many`, by default `one` + "s") unless 1. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** States that name what a block has, not what it is: said of "1 block" or "2 blocks". */
const STATES_OF_BLOCKS: Record<string, string> = {
  "lines no test ran": "with lines no test ran",
  "tests catch no mutant": "whose tests catch no mutant",
};

/**
 * How many blocks are in `state`, in words: "1 failing", "1 needs trace", "2 need trace",
 * "1 block with lines no test ran".
 */
export function blocksInState(count: number, state: string): string {
  const of = STATES_OF_BLOCKS[state];
  if (of !== undefined) {
    return `${plural(count, "block")} ${of}`;
  }
  if (state.startsWith("needs ") && count !== 1) {
    return `${count} need ${state.slice("needs ".length)}`;
  }
  return `${count} ${state}`;
}
