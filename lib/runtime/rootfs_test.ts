import assert from "node:assert/strict";
import { atVerified } from "./rootfs.ts";

Deno.test("a mount target whose path component became a symlink after it was resolved is refused", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const rootfs = `${dir}/rootfs`;
    Deno.mkdirSync(`${rootfs}/shared/x`, { recursive: true });
    Deno.mkdirSync(`${dir}/outside/x`, { recursive: true });
    const seen: string[] = [];
    // As resolved: a directory inside the root. The callback gets a handle to that very directory.
    atVerified(rootfs, `${rootfs}/shared/x`, (at) => seen.push(Deno.readLinkSync(at)));
    assert.deepEqual(seen, [`${Deno.realPathSync(rootfs)}/shared/x`]);
    // Swapped (by another container on the same volume) for a link out of the root.
    Deno.removeSync(`${rootfs}/shared`, { recursive: true });
    Deno.symlinkSync(`${dir}/outside`, `${rootfs}/shared`);
    assert.throws(
      () => atVerified(rootfs, `${rootfs}/shared/x`, (at) => seen.push(at)),
      /changed while it was mounted on/,
    );
    assert.equal(seen.length, 1, "nothing is done at the swapped target");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
