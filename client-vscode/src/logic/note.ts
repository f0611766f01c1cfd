// Notes for the workflow review (`handrail.note`): parsing `@handrail /note` and adding the
// sentence a code action's note asks for. No VS Code here, so node's test runner covers it.

/** What `handrail.note` takes. */
export interface NoteArgument {
  verdict: "helped" | "in-the-way";
  code?: string;
  text: string;
  source: "chat" | "editor";
  [key: string]: unknown;
}

export const NOTE_COMMAND = "handrail.note";
export const NOTE_MAX_CHARS = 500;

export const NOTE_USAGE =
  "Usage: `/note helped|in-the-way [HRxxx] <one sentence>`, such as `/note in-the-way HR201 the three-file cap made me split a one-line fix`. The note goes to the ledger for the next workflow review (`handrail workflow review`); it never holds code.";

/** `/note in-the-way HR201 the cap…` as the command's argument, or the usage when unclear. */
export function noteFromPrompt(prompt: string): NoteArgument | string {
  const words = prompt
    .trim()
    .split(/\s+/)
    .filter((word) => word.length > 0);
  const first = (words.shift() ?? "").toLowerCase().replace(/_/g, "-");
  const verdict =
    first === "helped"
      ? "helped"
      : first === "in-the-way" || first === "hindered"
        ? "in-the-way"
        : undefined;
  if (verdict === undefined) {
    return NOTE_USAGE;
  }
  let code: string | undefined;
  if (words.length > 0 && /^hr\d{3}$/i.test(words[0] ?? "")) {
    code = (words.shift() ?? "").toUpperCase();
  }
  const text = words.join(" ");
  if (text.length > NOTE_MAX_CHARS) {
    return `A note is one sentence of at most ${NOTE_MAX_CHARS} characters (this one has ${text.length}).`;
  }
  const argument: NoteArgument = { verdict, text, source: "chat" };
  if (code !== undefined) {
    argument.code = code;
  }
  return argument;
}

/** A code action's `handrail.note` arguments with the sentence the user typed (if any). */
export function withSentence(args: readonly unknown[], sentence: string): unknown[] {
  const first = args[0];
  if (typeof first !== "object" || first === null) {
    return [...args];
  }
  const text = sentence.trim().split(/\s+/).join(" ").slice(0, NOTE_MAX_CHARS);
  return [{ ...(first as Record<string, unknown>), text }, ...args.slice(1)];
}

/** Whether a `handrail.note` call still lacks its sentence (a code action's call). */
export function needsSentence(command: string, args: readonly unknown[]): boolean {
  const first = args[0];
  return (
    command === NOTE_COMMAND &&
    typeof first === "object" &&
    first !== null &&
    (first as Record<string, unknown>).text === undefined
  );
}
