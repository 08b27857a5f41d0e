import assert from "node:assert/strict";
import { lsetxattr, mknod, S_IFCHR, S_IFIFO } from "../../ffi/fs.ts";
import { applyLayer } from "./apply_layer.ts";
import { packDir } from "./pack_dir.ts";
import { readArchive } from "./read_archive.ts";
import { readAll, streamOf, xattrText } from "./_test_util.ts";

async function withTree(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "berth-pack-dir-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A tree with one of each kind of entry under `dir/src`. */
function makeTree(dir: string): string {
  const src = `${dir}/src`;
  Deno.mkdirSync(`${src}/sub/deep`, { recursive: true });
  Deno.writeTextFileSync(`${src}/a.txt`, "hello");
  Deno.chownSync(`${src}/a.txt`, 1234, 5678);
  Deno.chmodSync(`${src}/a.txt`, 0o4751); // after chown, which clears setuid
  Deno.writeFileSync(`${src}/sub/big`, new Uint8Array(200_000).map((_, i) => i % 253));
  Deno.linkSync(`${src}/sub/big`, `${src}/sub/deep/hard`);
  Deno.symlinkSync("../a.txt", `${src}/sub/link`);
  Deno.symlinkSync("/", `${src}/root-link`);
  mknod(`${src}/fifo`, S_IFIFO | 0o600);
  mknod(`${src}/null`, S_IFCHR | 0o666, 1, 3);
  const long = `${src}/${"d".repeat(120)}/${"é".repeat(60)}`;
  Deno.mkdirSync(long, { recursive: true });
  Deno.writeTextFileSync(`${long}/${"f".repeat(150)}`, "long");
  lsetxattr(`${src}/a.txt`, "user.bin", new Uint8Array([0, 1, 0xff, 0x0a]));
  Deno.utimeSync(`${src}/a.txt`, 1_000_000, 1_000_000);
  return src;
}

async function names(stream: ReadableStream<Uint8Array>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  await readArchive(stream, async (entry) => {
    out.push([entry.name, entry.type]);
    await entry.body.cancel();
  });
  return out;
}

Deno.test("packDir() round-trips every kind of entry through applyLayer()", async () => {
  await withTree(async (dir) => {
    const src = makeTree(dir);
    const tar = await readAll(packDir(src, { name: "copy" }));
    assert.equal(tar.byteLength % 512, 0);
    Deno.mkdirSync(`${dir}/out`);
    await applyLayer(streamOf(tar, 10_000), `${dir}/out`);
    const out = `${dir}/out/copy`;
    const a = Deno.lstatSync(`${out}/a.txt`);
    assert.equal(Deno.readTextFileSync(`${out}/a.txt`), "hello");
    assert.equal(a.mode! & 0o7777, 0o4751);
    assert.deepEqual([a.uid, a.gid], [1234, 5678]);
    assert.equal(a.mtime!.getTime(), 1_000_000_000);
    assert.equal(xattrText(`${out}/a.txt`, "user.bin"), "\u0000\u0001\ufffd\n");
    assert.deepEqual(Deno.readFileSync(`${out}/sub/big`), Deno.readFileSync(`${src}/sub/big`));
    assert.equal(Deno.lstatSync(`${out}/sub/deep/hard`).ino, Deno.lstatSync(`${out}/sub/big`).ino);
    assert.equal(Deno.readLinkSync(`${out}/sub/link`), "../a.txt");
    assert.equal(Deno.readLinkSync(`${out}/root-link`), "/");
    assert.ok(Deno.lstatSync(`${out}/fifo`).isFifo);
    assert.equal(Deno.lstatSync(`${out}/null`).rdev, Deno.lstatSync("/dev/null").rdev);
    const long = `${out}/${"d".repeat(120)}/${"é".repeat(60)}/${"f".repeat(150)}`;
    assert.equal(Deno.readTextFileSync(long), "long");
  });
});

Deno.test("packDir() names entries under the base name, sorted, directories first", async () => {
  await withTree(async (dir) => {
    Deno.mkdirSync(`${dir}/etc/b`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/etc/c`, "");
    Deno.writeTextFileSync(`${dir}/etc/a`, "");
    assert.deepEqual(await names(packDir(`${dir}/etc`)), [
      ["etc", "directory"],
      ["etc/a", "file"],
      ["etc/b", "directory"],
      ["etc/c", "file"],
    ]);
    assert.deepEqual(await names(packDir(`${dir}/etc`, { name: "" })), [
      ["a", "file"],
      ["b", "directory"],
      ["c", "file"],
    ]);
    assert.deepEqual(await names(packDir(`${dir}/etc/a`, { name: "x" })), [["x", "file"]]);
  });
});

Deno.test("packDir() keeps a symlink source as a link unless followLink is set", async () => {
  await withTree(async (dir) => {
    Deno.writeTextFileSync(`${dir}/target`, "t");
    Deno.symlinkSync(`${dir}/target`, `${dir}/link`);
    assert.deepEqual(await names(packDir(`${dir}/link`)), [["link", "symlink"]]);
    assert.deepEqual(await names(packDir(`${dir}/link`, { followLink: true })), [["link", "file"]]);
  });
});

Deno.test("packDir() records the given owner when owner is set", async () => {
  await withTree(async (dir) => {
    const src = makeTree(dir);
    Deno.mkdirSync(`${dir}/out`);
    await applyLayer(packDir(src, { owner: { uid: 7, gid: 8 } }), `${dir}/out`);
    const a = Deno.lstatSync(`${dir}/out/src/a.txt`);
    assert.deepEqual([a.uid, a.gid], [7, 8]);
    assert.equal(a.mode! & 0o7777, 0o4751);
  });
});

Deno.test("packDir() is read by GNU tar when names are long and xattrs binary", async () => {
  await withTree(async (dir) => {
    const src = makeTree(dir);
    const tar = await readAll(packDir(src));
    Deno.writeFileSync(`${dir}/x.tar`, tar);
    const out = await new Deno.Command("tar", { args: ["-tvf", `${dir}/x.tar`], stderr: "piped" })
      .output();
    assert.equal(new TextDecoder().decode(out.stderr), "");
    assert.equal(out.code, 0);
    const listing = new TextDecoder().decode(out.stdout);
    assert.match(listing, /src\/sub\/deep\/hard link to src\/sub\/big/);
    assert.match(listing, new RegExp(`${"f".repeat(150)}`));
  });
});

Deno.test("packDir() pads a file that shrinks while it is read, and stops at a missing source", async () => {
  await withTree(async (dir) => {
    Deno.writeFileSync(`${dir}/f`, new Uint8Array(100_000));
    const stream = packDir(`${dir}/f`);
    const reader = stream.getReader();
    const first = await reader.read(); // the header: the size is fixed now
    assert.equal(first.value?.byteLength, 512);
    Deno.truncateSync(`${dir}/f`, 10);
    let total = 512;
    for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.byteLength;
    assert.equal(total, 512 + 100_352 + 1024);
    await assert.rejects(readAll(packDir(`${dir}/nope`)), Deno.errors.NotFound);
  });
});
