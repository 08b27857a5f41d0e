import assert from "node:assert/strict";
import { secureJoin } from "./secure_join.ts";

Deno.test("secureJoin() keeps symlinks and .. inside the root", () => {
  const root = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${root}/a/b`, { recursive: true });
    Deno.symlinkSync("/etc", `${root}/abs`);
    Deno.symlinkSync("../../..", `${root}/a/b/up`);
    Deno.symlinkSync("b", `${root}/a/rel`);
    Deno.symlinkSync("loop", `${root}/loop`);
    assert.equal(secureJoin(root, "/abs/passwd"), `${root}/etc/passwd`);
    assert.equal(secureJoin(root, "/a/b/up/etc"), `${root}/etc`);
    assert.equal(secureJoin(root, "/../../x"), `${root}/x`);
    assert.equal(secureJoin(root, "/a/rel/c"), `${root}/a/b/c`);
    assert.equal(secureJoin(root, "/"), root);
    assert.equal(secureJoin(root, "/new/dir"), `${root}/new/dir`);
    assert.throws(() => secureJoin(root, "/loop"), /Too many symlinks/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
