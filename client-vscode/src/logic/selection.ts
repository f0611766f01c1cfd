/**
 * The lines "Mark Selection as Generated" sends to the server. Kept free of VS Code so the rule
 * is unit-tested: an empty selection, or one of blank lines only, holds no code and is never
 * sent (the server refuses it too), so the editor asks for a selection instead of wrapping
 * the cursor's line.
 */

export interface Spot {
  line: number;
  character: number;
}

export interface SelectedLines {
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
}

export const EMPTY_SELECTION =
  "Select the generated lines first, then run Mark Selection as Generated.";
export const BLANK_SELECTION =
  "The selected lines are blank: select the generated code, then run Mark Selection as Generated.";

/**
 * The 1-based lines a selection covers, or the sentence that asks for a better one.
 * A selection that ends at column 0 of a later line does not take that line.
 */
export function selectedLines(
  start: Spot,
  end: Spot,
  lineText: (line: number) => string,
): SelectedLines | { refusal: string } {
  if (start.line === end.line && start.character === end.character) {
    return { refusal: EMPTY_SELECTION };
  }
  const last = end.character === 0 && end.line > start.line ? end.line : end.line + 1;
  const startLine = start.line + 1;
  for (let line = startLine; line <= last; line++) {
    if (lineText(line - 1).trim() !== "") {
      return { startLine, endLine: last };
    }
  }
  return { refusal: BLANK_SELECTION };
}
