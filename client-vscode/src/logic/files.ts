// File-system questions the launch asks, shared by the extension and its launch test (which
// runs the real launch plan against planted programs).
import { accessSync, constants, realpathSync } from "node:fs";

/** Whether `file` exists and may be executed by this process. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `file` with its symlinks resolved, or `file` itself when it cannot be resolved. */
export function realpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
