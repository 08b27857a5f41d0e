import assert from "node:assert/strict";
import { InvalidError, NotFoundError } from "../../errors.ts";
import { type BuildContext, openDirContext, readTarContext } from "./context.ts";
import { makeDir, makeTar } from "./_test_util.ts";

function paths(context: BuildContext): string[] {
  return context.entries().map((e) => e.path);
}

async function text(context: BuildContext, path: string): Promise<string> {
  return new TextDecoder().decode(await context.readFile(path));
}

Deno.test("openDirContext() lists every entry with its metadata, sorted", async () => {
  const root = await makeDir({ "a.txt": "A", "src/main.ts": "main", "src/lib": { dir: true } });
  try {
    await Deno.chmod(`${root}/a.txt`, 0o4750);
    const context = await openDirContext(root);
    assert.deepEqual(paths(context), ["a.txt", "src", "src/lib", "src/main.ts"]);
    const file = context.get("a.txt")!;
    assert.equal(file.type, "file");
    assert.equal(file.mode, 0o4750);
    assert.equal(file.size, 1);
    assert.equal(file.uid, Deno.uid());
    assert.equal(context.get("src")!.type, "directory");
    assert.equal(context.root.type, "directory");
    assert.equal(await text(context, "src/main.ts"), "main");
    const chunks = await Array.fromAsync(await context.open("a.txt"));
    assert.equal(new TextDecoder().decode(chunks[0]), "A");
    assert.deepEqual(context.children("src").map((e) => e.path), ["src/lib", "src/main.ts"]);
    await assert.rejects(() => context.readFile("src"), NotFoundError);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("openDirContext() keeps symlinks as entries and never follows them", async () => {
  const outside = await makeDir({ "secret/key": "s3cret" });
  const root = await makeDir({
    "out": { link: `${outside}/secret` },
    "up": { link: "../../etc" },
    "ok": { link: "a.txt" },
    "a.txt": "A",
  });
  try {
    const context = await openDirContext(root);
    assert.deepEqual(paths(context), ["a.txt", "ok", "out", "up"]);
    assert.equal(context.get("out")!.type, "symlink");
    assert.equal(context.get("out")!.linkTarget, `${outside}/secret`);
    assert.equal(context.get("out/key"), undefined);
    await assert.rejects(() => context.readFile("out/key"), NotFoundError);
    await assert.rejects(() => context.readFile("ok"), NotFoundError);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("openDirContext() applies .dockerignore with exceptions and keeps the Dockerfile", async () => {
  const root = await makeDir({
    ".dockerignore":
      "# build outputs\n*.log\nbuild\n!build/keep.txt\nDockerfile\n.dockerignore\nnode_modules\n",
    "Dockerfile": "FROM scratch",
    "app.log": "x",
    "app.ts": "y",
    "build/keep.txt": "k",
    "build/drop.txt": "d",
    "build/sub/deep.txt": "d",
    "node_modules/pkg/index.js": "z",
    "src/debug.log": "l",
  });
  try {
    const context = await openDirContext(root);
    assert.deepEqual(paths(context), [
      ".dockerignore",
      "Dockerfile",
      "app.ts",
      "build",
      "build/keep.txt",
      "src",
      // `*.log` matches at the top only, as in Docker.
      "src/debug.log",
    ]);
    // The excluded directory comes with its real metadata.
    assert.equal(context.get("build")!.type, "directory");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("openDirContext() walks into excluded directories for wildcard exceptions", async () => {
  const root = await makeDir({ "a/b/keep.me": "1", "a/b/drop": "2", "c/keep.me": "3", "d": "4" });
  try {
    const context = await openDirContext(root, { excludes: ["*", "!**/*.me"] });
    assert.deepEqual(paths(context), ["a", "a/b", "a/b/keep.me", "c", "c/keep.me"]);
    const other = await openDirContext(root, { excludes: ["a"], dockerfile: "d" });
    assert.deepEqual(paths(other), ["c", "c/keep.me", "d"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("openDirContext() rejects a missing path, a file and a bad .dockerignore", async () => {
  const root = await makeDir({ "f": "x", ".dockerignore": "ok\n[\n" });
  try {
    await assert.rejects(() => openDirContext(`${root}/nope`), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.message, `unable to prepare context: path "${root}/nope" not found`);
      return true;
    });
    await assert.rejects(() => openDirContext(`${root}/f`), InvalidError);
    await assert.rejects(() => openDirContext(root), /syntax error in pattern/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readTarContext() reads members, adds parents and spills large bodies", async () => {
  const tmpRoot = await Deno.makeTempDir();
  try {
    const big = "b".repeat(100_000);
    const context = await readTarContext(
      makeTar([
        { name: "./", type: "directory", mode: 0o700 },
        { name: "small.txt", body: "hi", mode: 0o640, uid: 7, gid: 8, mtime: new Date(5000) },
        { name: "deep/er/big.bin", body: big },
        { name: "link", type: "symlink", linkname: "../../outside" },
        { name: "hard", type: "link", linkname: "small.txt" },
        { name: "dup", body: "first" },
        { name: "dup", body: "second" },
      ]),
      { tmpRoot, inlineLimit: 1000 },
    );
    assert.deepEqual(paths(context), [
      "deep",
      "deep/er",
      "deep/er/big.bin",
      "dup",
      "hard",
      "link",
      "small.txt",
    ]);
    assert.equal(context.root.mode, 0o700);
    const small = context.get("small.txt")!;
    assert.deepEqual(
      [small.mode, small.uid, small.gid, small.size, small.mtime.getTime()],
      [0o640, 7, 8, 2, 5000],
    );
    assert.equal(context.get("deep")!.mode, 0o755);
    assert.equal(context.get("link")!.linkTarget, "../../outside");
    assert.equal(await text(context, "hard"), "hi");
    assert.equal(context.get("hard")!.type, "file");
    assert.equal(await text(context, "dup"), "second");
    assert.equal(await text(context, "deep/er/big.bin"), big);
    const spilled = await Array.fromAsync(Deno.readDir(tmpRoot));
    assert.equal(spilled.length, 1);
    assert.equal((await Array.fromAsync(Deno.readDir(`${tmpRoot}/${spilled[0]!.name}`))).length, 1);
    await context.close();
    assert.equal((await Array.fromAsync(Deno.readDir(tmpRoot))).length, 0);
  } finally {
    await Deno.remove(tmpRoot, { recursive: true });
  }
});

Deno.test("readTarContext() applies the archive's .dockerignore", async () => {
  const tmpRoot = await Deno.makeTempDir();
  try {
    const context = await readTarContext(
      makeTar([
        { name: ".dockerignore", body: "secret\n*.tmp\n!keep.tmp\nDockerfile\n" },
        { name: "Dockerfile", body: "FROM scratch" },
        { name: "secret/key", body: "k" },
        { name: "a.tmp", body: "a" },
        { name: "keep.tmp", body: "b" },
      ]),
      { tmpRoot },
    );
    assert.deepEqual(paths(context), [".dockerignore", "Dockerfile", "keep.tmp"]);
    await context.close();
  } finally {
    await Deno.remove(tmpRoot, { recursive: true });
  }
});

Deno.test("readTarContext() rejects a malformed tar and a dangling hard link, leaving no temp files", async () => {
  const tmpRoot = await Deno.makeTempDir();
  try {
    const garbage = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(700).fill(65));
        c.close();
      },
    });
    await assert.rejects(() => readTarContext(garbage, { tmpRoot }), InvalidError);
    await assert.rejects(
      () => readTarContext(makeTar([{ name: "h", type: "link", linkname: "nope" }]), { tmpRoot }),
      (e: unknown) => e instanceof InvalidError && /hard link "h"/.test(e.message),
    );
    assert.equal((await Array.fromAsync(Deno.readDir(tmpRoot))).length, 0);
  } finally {
    await Deno.remove(tmpRoot, { recursive: true });
  }
});
