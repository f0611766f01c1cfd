import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { insideAnyFolder } from "../src/logic/paths";

test("a file is inside a folder only strictly below it", () => {
  const folders = ["/work/repo", "/work/other"];
  assert.equal(insideAnyFolder(folders, "/work/repo/src/a.py"), true);
  assert.equal(insideAnyFolder(folders, "/work/other/b.py"), true);
  assert.equal(insideAnyFolder(folders, "/work/repo/..foo.py"), true); // a name, not a parent
  assert.equal(insideAnyFolder(folders, "/work/repo"), false);
  assert.equal(insideAnyFolder(folders, "/work/repo/../elsewhere/a.py"), false);
  assert.equal(insideAnyFolder(folders, "/work/repository/a.py"), false);
  assert.equal(insideAnyFolder(folders, "/etc/passwd"), false);
  assert.equal(insideAnyFolder([], "/work/repo/a.py"), false);
});

test("any path that climbs out with '..' is outside", () => {
  const part = fc.stringMatching(/^[a-z]{1,6}$/);
  fc.assert(
    fc.property(
      fc.array(part, { maxLength: 4 }),
      fc.array(part, { minLength: 1, maxLength: 4 }),
      (down, away) => {
        // "x-" keeps `away` from naming the folder itself ("repo") on the way back in.
        const climb = [...down.map(() => ".."), "..", ...away.map((p) => `x-${p}`)].join("/");
        const file = ["/work/repo", ...down, climb].join("/");
        assert.equal(insideAnyFolder(["/work/repo"], file), false);
      },
    ),
  );
});
