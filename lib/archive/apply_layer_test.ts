import assert from "node:assert/strict";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { sha256 } from "../digest.ts";
import { applyLayer } from "./apply_layer.ts";
import { lgetxattr } from "../../ffi/fs.ts";
import { majorMinor, makeTar, streamOf, withRoot, xattrText } from "./_test_util.ts";

const T1 = new Date("2020-01-02T03:04:05Z");
const T2 = new Date("2021-06-07T08:09:10Z");
const T3 = new Date("2019-11-12T13:14:15Z");
const secs = (d: Date) => d.getTime() / 1000;
const mtimeOf = (info: Deno.FileInfo) => info.mtime!.getTime() / 1000;

// VFS_CAP_REVISION_2 | effective; permitted = cap_net_bind_service | cap_setfcap (bit 31:
// byte 0x80, which a UTF-8 decode would corrupt).
const CAPABILITY = new Uint8Array([1, 0, 0, 2, 0, 4, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

Deno.test("applyLayer() restores every entry type with its metadata when given a plain tar", async () => {
  const longDir = "d".repeat(120);
  const longName = `${longDir}/${"f".repeat(90)}`;
  const veryLong = `${"v".repeat(200)}/${"w".repeat(100)}`; // > 255: needs a PAX path
  const gnuLong = `g/${"n".repeat(200)}`;
  const bytes = await makeTar([
    { name: "etc", type: "directory", mode: 0o750, uid: 3, gid: 4, mtime: T1 },
    { name: "etc/suid", mode: 0o4755, uid: 1000, gid: 1001, mtime: T2, body: "suid" },
    { name: "etc/sgid", mode: 0o2711, uid: 1000, gid: 1001, mtime: T2, body: "" },
    { name: "etc/link", type: "symlink", linkname: "/etc/suid", uid: 5, gid: 6, mtime: T3 },
    { name: "etc/hard", type: "link", linkname: "etc/suid", mtime: T2 },
    { name: "tmp", type: "directory", mode: 0o1777, mtime: T3 },
    {
      name: "dev/null",
      type: "character-device",
      mode: 0o666,
      devmajor: 1,
      devminor: 3,
      mtime: T1,
    },
    { name: "dev/loop0", type: "block-device", mode: 0o660, devmajor: 7, devminor: 300, mtime: T1 },
    { name: "run/fifo", type: "fifo", mode: 0o620, uid: 7, gid: 8, mtime: T1 },
    {
      name: "bin/ping",
      mode: 0o755,
      mtime: T1,
      body: "ping",
      pax: { "SCHILY.xattr.security.capability": CAPABILITY, "SCHILY.xattr.user.note": "hi" },
    },
    { name: "frac", mtime: T1, body: "", pax: { mtime: "1600000000.25" } },
    { name: longName, mtime: T1, body: "long" },
    { name: veryLong, mtime: T1, body: "very long" },
    { name: "x".repeat(99), mtime: T1, body: "gnu long", gnuLongName: gnuLong },
  ]);
  await withRoot(async (root) => {
    const result = await applyLayer(streamOf(bytes, 1000), root);
    assert.equal(result.compression, "none");
    assert.equal(result.size, bytes.byteLength);

    const etc = Deno.lstatSync(`${root}/etc`);
    assert.equal(etc.mode! & 0o7777, 0o750);
    assert.deepEqual([etc.uid, etc.gid], [3, 4]);
    assert.equal(mtimeOf(etc), secs(T1), "directory mtime is set after its children");

    const suid = Deno.lstatSync(`${root}/etc/suid`);
    assert.equal(suid.mode! & 0o7777, 0o4755, "setuid survives chown");
    assert.deepEqual([suid.uid, suid.gid, mtimeOf(suid)], [1000, 1001, secs(T2)]);
    assert.equal(Deno.readTextFileSync(`${root}/etc/suid`), "suid");
    assert.equal(Deno.lstatSync(`${root}/etc/sgid`).mode! & 0o7777, 0o2711);

    const link = Deno.lstatSync(`${root}/etc/link`);
    assert.ok(link.isSymlink);
    assert.equal(Deno.readLinkSync(`${root}/etc/link`), "/etc/suid");
    assert.deepEqual([link.uid, link.gid, mtimeOf(link)], [5, 6, secs(T3)]);

    const hard = Deno.lstatSync(`${root}/etc/hard`);
    assert.equal(hard.ino, suid.ino, "hardlink shares the inode");
    assert.equal(hard.nlink, 2);

    assert.equal(Deno.lstatSync(`${root}/tmp`).mode! & 0o7777, 0o1777);

    const chr = Deno.lstatSync(`${root}/dev/null`);
    assert.ok(chr.isCharDevice);
    assert.deepEqual(majorMinor(chr.rdev!), [1, 3]);
    assert.equal(chr.mode! & 0o7777, 0o666);
    const blk = Deno.lstatSync(`${root}/dev/loop0`);
    assert.ok(blk.isBlockDevice);
    assert.deepEqual(majorMinor(blk.rdev!), [7, 300]);
    const fifo = Deno.lstatSync(`${root}/run/fifo`);
    assert.ok(fifo.isFifo);
    assert.deepEqual([fifo.mode! & 0o7777, fifo.uid, fifo.gid], [0o620, 7, 8]);

    assert.deepEqual(lgetxattr(`${root}/bin/ping`, "security.capability"), CAPABILITY);
    assert.equal(xattrText(`${root}/bin/ping`, "user.note"), "hi");
    assert.equal(mtimeOf(Deno.lstatSync(`${root}/frac`)), 1600000000.25);

    assert.equal(Deno.readTextFileSync(`${root}/${longName}`), "long");
    assert.equal(Deno.readTextFileSync(`${root}/${veryLong}`), "very long");
    assert.equal(Deno.readTextFileSync(`${root}/${gnuLong}`), "gnu long");
  });
});

Deno.test("applyLayer() returns the diffId of the uncompressed tar when it is plain, gzip or zstd", async () => {
  const bytes = await makeTar([
    { name: "a/b.txt", mtime: T1, body: "x".repeat(100_000) },
    { name: "c", mtime: T1, body: crypto.getRandomValues(new Uint8Array(50_000)) },
  ]);
  const cases = [
    ["none", bytes],
    ["gzip", gzipSync(bytes)],
    ["zstd", zstdCompressSync(bytes)],
  ] as const;
  for (const [compression, blob] of cases) {
    await withRoot(async (root) => {
      const progress: number[] = [];
      const result = await applyLayer(streamOf(blob, 7000), root, {
        onProgress: (n) => progress.push(n),
      });
      assert.deepEqual(result, { diffId: sha256(bytes), size: bytes.byteLength, compression });
      assert.equal(progress.at(-1), blob.byteLength, "progress counts source bytes");
      assert.equal(Deno.readTextFileSync(`${root}/a/b.txt`), "x".repeat(100_000));
      assert.equal(Deno.statSync(`${root}/c`).size, 50_000);
    });
  }
});

Deno.test("applyLayer() writes overlayfs whiteouts when the layer has OCI whiteouts", async () => {
  const bytes = await makeTar([
    { name: "a/gone", body: "old" },
    { name: "a/dir/child", body: "old" },
    { name: "a/.wh.gone", body: "" },
    { name: "a/.wh.dir", body: "" },
    { name: "b/.wh.never-existed", body: "" },
    { name: "o/.wh..wh..opq", body: "" },
    { name: "p/.wh..wh.plnk", body: "" },
  ]);
  await withRoot(async (root) => {
    await applyLayer(streamOf(bytes), root);
    for (const path of ["a/gone", "a/dir", "b/never-existed"]) {
      const info = Deno.lstatSync(`${root}/${path}`);
      assert.ok(info.isCharDevice, `${path} is a whiteout`);
      assert.deepEqual(majorMinor(info.rdev!), [0, 0]);
    }
    assert.equal(xattrText(`${root}/o`, "trusted.overlay.opaque"), "y");
    assert.deepEqual([...Deno.readDirSync(`${root}/p`)], [], "other .wh..wh. entries are skipped");
    assert.deepEqual([...Deno.readDirSync(`${root}/o`)], []);
  });
});

Deno.test("applyLayer() lets a later entry replace an earlier one when both have the same path", async () => {
  const bytes = await makeTar([
    { name: "f2d", body: "file" },
    { name: "f2d", type: "directory", mode: 0o700 },
    { name: "d2f/child", body: "child" },
    { name: "d2f", body: "now a file" },
    { name: "l2f", type: "symlink", linkname: "target" },
    { name: "target", body: "target" },
    { name: "l2f", body: "replaces the link" },
    { name: "keep", type: "directory", mode: 0o755 },
    { name: "keep/child", body: "kept" },
    { name: "keep", type: "directory", mode: 0o711, mtime: T3 },
    { name: "f2l", body: "file" },
    { name: "f2l", type: "symlink", linkname: "elsewhere" },
    { name: "h", type: "link", linkname: "target" },
    { name: "h", body: "not written through the hardlink" },
  ]);
  await withRoot(async (root) => {
    await applyLayer(streamOf(bytes), root);
    assert.ok(Deno.lstatSync(`${root}/f2d`).isDirectory);
    assert.equal(Deno.lstatSync(`${root}/f2d`).mode! & 0o777, 0o700);
    assert.equal(Deno.readTextFileSync(`${root}/d2f`), "now a file");
    assert.ok(Deno.lstatSync(`${root}/l2f`).isFile);
    assert.equal(Deno.readTextFileSync(`${root}/l2f`), "replaces the link");
    assert.equal(Deno.readTextFileSync(`${root}/target`), "target");
    assert.equal(Deno.readTextFileSync(`${root}/keep/child`), "kept");
    const keep = Deno.lstatSync(`${root}/keep`);
    assert.deepEqual([keep.mode! & 0o777, mtimeOf(keep)], [0o711, secs(T3)]);
    assert.equal(Deno.readLinkSync(`${root}/f2l`), "elsewhere");
    assert.equal(Deno.readTextFileSync(`${root}/h`), "not written through the hardlink");
    assert.equal(Deno.lstatSync(`${root}/target`).nlink, 1);
  });
});

Deno.test("applyLayer() applies the root entry's metadata when the tar has './'", async () => {
  const bytes = await makeTar([
    { name: "./", type: "directory", mode: 0o755, mtime: T1 },
    { name: "./x", body: "x" },
  ]);
  await withRoot(async (root) => {
    await applyLayer(streamOf(bytes), root);
    const info = Deno.lstatSync(root);
    assert.deepEqual([info.mode! & 0o777, mtimeOf(info)], [0o755, secs(T1)]);
    assert.equal(Deno.readTextFileSync(`${root}/x`), "x");
  });
});

Deno.test("applyLayer() handles thousands of empty entries when they arrive in one chunk", async () => {
  const entries = Array.from({ length: 2000 }, (_, i) => ({ name: `d/${i}`, body: "" }));
  const bytes = await makeTar(entries);
  await withRoot(async (root) => {
    await applyLayer(streamOf(bytes, bytes.byteLength), root);
    assert.equal([...Deno.readDirSync(`${root}/d`)].length, 2000);
  });
});
