// Adding one entry to a task file's `context = [...]` array as a text edit, keeping the rest
// of the file (comments, other keys, the user's layout) as it is.

export type AddResult =
  { kind: "added"; text: string } | { kind: "present" } | { kind: "unreadable"; reason: string };

interface ArrayScan {
  open: number;
  close: number;
  values: string[];
  /** Offset just after the last value, undefined for an empty array. */
  lastValueEnd: number | undefined;
  trailingComma: boolean;
}

const KEY = /^[ \t]*context[ \t]*=[ \t]*\[/m;

function readString(text: string, start: number): { value: string; end: number } | undefined {
  const quote = text[start];
  if (quote === "'") {
    const end = text.indexOf("'", start + 1);
    if (end < 0 || text.slice(start + 1, end).includes("\n")) {
      return undefined;
    }
    return { value: text.slice(start + 1, end), end: end + 1 };
  }
  let index = start + 1;
  let raw = "";
  while (index < text.length) {
    const char = text[index];
    if (char === "\n" || char === undefined) {
      return undefined;
    }
    if (char === "\\") {
      raw += text.slice(index, index + 2);
      index += 2;
      continue;
    }
    if (char === '"') {
      try {
        // TOML basic-string escapes are a subset of JSON's plus \UXXXXXXXX, which a path
        // hardly holds; an escape JSON cannot read makes the file "unreadable" for us.
        return { value: JSON.parse(`"${raw}"`) as string, end: index + 1 };
      } catch {
        return undefined;
      }
    }
    raw += char;
    index++;
  }
  return undefined;
}

/** The `context` array: its brackets and string values; undefined when it is not plain. */
export function scanContextArray(text: string): ArrayScan | undefined {
  const match = KEY.exec(text);
  if (match === null) {
    return undefined;
  }
  const open = match.index + match[0].length - 1;
  const values: string[] = [];
  let lastValueEnd: number | undefined;
  let trailingComma = false;
  let index = open + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === " " || char === "\t" || char === "\r" || char === "\n") {
      index++;
    } else if (char === "#") {
      const newline = text.indexOf("\n", index);
      index = newline < 0 ? text.length : newline;
    } else if (char === ",") {
      if (lastValueEnd === undefined || trailingComma) {
        return undefined;
      }
      trailingComma = true;
      index++;
    } else if (char === "]") {
      return { open, close: index, values, lastValueEnd, trailingComma };
    } else if (char === '"' || char === "'") {
      if (lastValueEnd !== undefined && !trailingComma) {
        return undefined;
      }
      const read = readString(text, index);
      if (read === undefined) {
        return undefined;
      }
      values.push(read.value);
      lastValueEnd = read.end;
      trailingComma = false;
      index = read.end;
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** The file's text with `entry` appended to its context, in the array's own layout. */
export function addContextEntry(text: string, entry: string): AddResult {
  const quoted = JSON.stringify(entry);
  if (KEY.exec(text) === null) {
    const eol = text.includes("\r\n") ? "\r\n" : "\n";
    const separator = text.length === 0 || text.endsWith("\n") ? "" : eol;
    return {
      kind: "added",
      text: `${text}${separator}context = [${eol}    ${quoted},${eol}]${eol}`,
    };
  }
  const scan = scanContextArray(text);
  if (scan === undefined) {
    return {
      kind: "unreadable",
      reason: "its context list is not a plain list of quoted paths; add the entry by hand",
    };
  }
  if (scan.values.includes(entry)) {
    return { kind: "present" };
  }
  const inside = text.slice(scan.open, scan.close);
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  if (inside.includes("\n")) {
    if (scan.lastValueEnd === undefined) {
      // An empty array over several lines: the closing bracket is alone on its line.
      const lineStart = text.lastIndexOf("\n", scan.close - 1) + 1;
      const indent = text.slice(lineStart, scan.close);
      const line = `${indent}    ${quoted},${eol}`;
      return { kind: "added", text: text.slice(0, lineStart) + line + text.slice(lineStart) };
    }
    // After the last value, on a line of its own with that value's indent; a trailing comma
    // (or its absence) stays where it was, now after the new value.
    const valueLine = text.lastIndexOf("\n", scan.lastValueEnd - 1) + 1;
    const indent = /^[ \t]*/.exec(text.slice(valueLine))?.[0] ?? "";
    const insert = `,${eol}${indent}${quoted}`;
    return {
      kind: "added",
      text: text.slice(0, scan.lastValueEnd) + insert + text.slice(scan.lastValueEnd),
    };
  }
  // All on one line: `["a", "b"]` -> `["a", "b", "c"]`.
  const values = [...scan.values, entry].map((value) => JSON.stringify(value)).join(", ");
  return {
    kind: "added",
    text: `${text.slice(0, scan.open)}[${values}]${text.slice(scan.close + 1)}`,
  };
}
