/**
 * The machine's approval of the commands verification runs, asked for in one message: exactly
 * the commands the server says verifying this workspace's blocks would run, and one button
 * that records their approval (the same record as `handrail trust`).
 */

export interface TrustCommandJson {
  command: string;
  where: string;
  blocks: string[];
  approved: boolean;
}

export interface TrustStatusJson {
  editor_trusted: boolean;
  commands: TrustCommandJson[];
  pending: string[];
}

export const APPROVE = "Approve and Verify";

/** The same sentence for the lens, the palette and the chat in Restricted Mode. */
export const RESTRICTED_MODE =
  "verification runs the commands this workspace defines, so it only runs in a trusted workspace. Nothing was run.";

/** The one message that asks for the approval, or undefined when nothing waits for it. */
export function approvalMessage(status: TrustStatusJson): string | undefined {
  const waiting = status.commands.filter((c) => !c.approved);
  if (waiting.length === 0) {
    return undefined;
  }
  const listed = waiting
    .map((c) => `\`${c.command}\` (${c.where}; blocks ${c.blocks.join(", ")})`)
    .join("; ");
  const noun = waiting.length === 1 ? "this command" : `these ${waiting.length} commands`;
  return `Handrail: verifying runs ${noun} from the repository, not yet approved on this machine: ${listed}. Approve and run?`;
}
