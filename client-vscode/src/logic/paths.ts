// Whether a file lies inside one of the workspace folders (pure path arithmetic, no VS Code).
import * as path from "node:path";

/** True when `file` is strictly inside one of `folders` (all absolute file-system paths). */
export function insideAnyFolder(folders: readonly string[], file: string): boolean {
  const target = path.resolve(file);
  return folders.some((folder) => {
    const relative = path.relative(path.resolve(folder), target);
    return (
      relative.length > 0 &&
      relative !== ".." &&
      !relative.startsWith(`..${path.sep}`) &&
      !path.isAbsolute(relative)
    );
  });
}
