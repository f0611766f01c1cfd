// Finding the generated block under the cursor and the task a file or block belongs to.

const MARKER = /^\s*\S+?\s*handrail:(begin|end)\s+([a-z0-9]{6}\.[1-9][0-9]{0,8})\b/;
const TASK_FILE = /(?:^|[\\/])\.handrail[\\/]tasks[\\/]([a-z0-9]{6})\.toml$/;

export interface BlockSpan {
  id: string;
  beginLine: number;
  endLine: number;
}

/** Every begin/end pair in the text, lines 1-based; an unmatched marker is skipped. */
export function blockSpans(text: string): BlockSpan[] {
  const spans: BlockSpan[] = [];
  const open = new Map<string, number>();
  const lines = text.split(/\r\n|\r|\n/);
  lines.forEach((line, index) => {
    const match = MARKER.exec(line);
    if (match === null) {
      return;
    }
    const kind = match[1];
    const id = match[2];
    if (kind === undefined || id === undefined) {
      return;
    }
    if (kind === "begin") {
      open.set(id, index + 1);
      return;
    }
    const begin = open.get(id);
    if (begin !== undefined) {
      spans.push({ id, beginLine: begin, endLine: index + 1 });
      open.delete(id);
    }
  });
  return spans;
}

/** The innermost block holding the 1-based line, markers included. */
export function blockAt(text: string, line: number): BlockSpan | undefined {
  let best: BlockSpan | undefined;
  for (const span of blockSpans(text)) {
    if (span.beginLine <= line && line <= span.endLine) {
      if (best === undefined || span.beginLine >= best.beginLine) {
        best = span;
      }
    }
  }
  return best;
}

export function taskOfBlock(blockId: string): string {
  return blockId.split(".")[0] ?? blockId;
}

export function taskOfPath(path: string): string | undefined {
  return TASK_FILE.exec(path)?.[1];
}
