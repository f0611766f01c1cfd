// Taking the code out of a model's answer: its fenced code blocks, read as CommonMark does.
// The same rules as the server's handrail/generate/extract.py (both are checked against the
// cases in tests/contract/extract_cases.json), so an answer gives the same code
// in the chat view as in `handrail generate`:
// - a fence is three or more backticks or tildes, indented at most three spaces; it closes at a
//   line of the same character, at least as long, with nothing after it; an unclosed fence runs
//   to the end of the answer;
// - prose outside fences is never taken for code: an answer without a fence has no code;
// - with several blocks, those tagged with the language of the target file win, and among those
//   the longest (the first of equally long ones).

export interface CodeBlock {
  /** The first word of the info string, lower case ("" when none). */
  language: string;
  /** The lines between the fences, each ending with "\n". */
  code: string;
  /** The 1-based line of the answer holding the opening fence. */
  line: number;
  closed: boolean;
}

const OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const LINE = /[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g;

const ALIASES: Record<string, readonly string[]> = Object.fromEntries(
  Object.entries({
    ".py": "python py python3 py3",
    ".pyi": "python py",
    ".js": "javascript js node",
    ".mjs": "javascript js",
    ".cjs": "javascript js",
    ".jsx": "jsx javascript js",
    ".ts": "typescript ts",
    ".tsx": "tsx typescript ts",
    ".go": "go golang",
    ".rs": "rust rs",
    ".java": "java",
    ".kt": "kotlin kt",
    ".c": "c",
    ".h": "c cpp",
    ".cc": "cpp c++",
    ".cpp": "cpp c++",
    ".hpp": "cpp c++",
    ".cs": "csharp cs c#",
    ".rb": "ruby rb",
    ".php": "php",
    ".sh": "bash sh shell zsh",
    ".sql": "sql",
    ".lua": "lua",
    ".swift": "swift",
    ".html": "html",
    ".css": "css",
    ".scss": "scss",
    ".yaml": "yaml yml",
    ".yml": "yaml yml",
    ".toml": "toml",
    ".md": "markdown md",
  }).map(([suffix, names]) => [suffix, names.split(" ")]),
);

function stripEol(line: string): string {
  return line.replace(/[\r\n]+$/, "");
}

function closes(text: string, fence: string): boolean {
  const stripped = text.replace(/^ +/, "");
  if (text.length - stripped.length > 3) {
    return false;
  }
  const char = fence.charAt(0);
  let run = 0;
  while (stripped.charAt(run) === char) {
    run++;
  }
  return run >= fence.length && stripped.slice(run).replace(/[ \t]/g, "").length === 0;
}

function dedent(text: string, indent: number): string {
  // CommonMark removes up to the opening fence's indentation from each content line.
  const spaces = text.length - text.replace(/^ +/, "").length;
  return text.slice(Math.min(spaces, indent));
}

/** Every fenced code block of `answer`, in order. */
export function codeBlocks(answer: string): CodeBlock[] {
  const lines = answer.match(LINE) ?? [];
  const blocks: CodeBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const opened = OPEN.exec(stripEol(lines[i] ?? ""));
    const indent = opened?.[1] ?? "";
    const fence = opened?.[2] ?? "";
    const info = opened?.[3] ?? "";
    if (opened === null || (fence.startsWith("`") && info.includes("`"))) {
      i++;
      continue;
    }
    const start = i;
    const body: string[] = [];
    let closed = false;
    i++;
    while (i < lines.length) {
      const text = stripEol(lines[i] ?? "");
      i++;
      if (closes(text, fence)) {
        closed = true;
        break;
      }
      body.push(dedent(text, indent.length) + "\n");
    }
    const words = info
      .trim()
      .split(/\s+/)
      .filter((word) => word.length > 0);
    blocks.push({
      language: (words[0] ?? "").toLowerCase(),
      code: body.join(""),
      line: start + 1,
      closed,
    });
  }
  return blocks;
}

function suffixOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot).toLowerCase();
}

/**
 * The code to insert, or undefined when the answer holds no non-blank fenced code. `path` (the
 * file the code is meant for) prefers blocks tagged with its language.
 */
export function extractCode(answer: string, path?: string): string | undefined {
  let blocks = codeBlocks(answer).filter((block) => block.code.trim().length > 0);
  if (blocks.length === 0) {
    return undefined;
  }
  const names = path === undefined ? undefined : ALIASES[suffixOf(path)];
  if (names !== undefined) {
    const matching = blocks.filter((block) => names.includes(block.language));
    const untagged = blocks.filter((block) => block.language === "");
    blocks = matching.length > 0 ? matching : untagged.length > 0 ? untagged : blocks;
  }
  let best = blocks[0];
  for (const block of blocks.slice(1)) {
    if (best === undefined || lineCount(block.code) > lineCount(best.code)) {
      best = block;
    }
  }
  return best?.code;
}

function lineCount(code: string): number {
  return code.split("\n").length - 1;
}
