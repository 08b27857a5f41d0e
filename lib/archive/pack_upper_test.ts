import assert from "node:assert/strict";
import { lgetxattr, llistxattr, lsetxattr } from "../../ffi/fs.ts";
import { MNT_DETACH, mount, MS_RDONLY, umount2 } from "../../ffi/mount.ts";
import { applyLayer } from "./apply_layer.ts";
import { packUpper } from "./pack_upper.ts";
import { paxXattrs } from "./_pax_xattrs.ts";
import { runExtract } from "./_run_extract.ts";
import { concat, readAll, streamOf } from "./_test_util.ts";

/** Runs `fn` with a temp dir; unmounts whatever was mounted under it and removes it. */
async function withDir(fn: (dir: string, mounted: string[]) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "berth-pack-upper-" });
  const mounted: string[] = [];
  try {
    await fn(dir, mounted);
  } finally {
    for (const target of mounted.reverse()) {
      try {
        umount2(target, MNT_DETACH);
      } catch {
        // already unmounted
      }
    }
    await Deno.remove(dir, { recursive: true });
  }
}

/** A lower tree with files to delete, change, replace and hard-link. */
function makeLower(lower: string): void {
  Deno.mkdirSync(`${lower}/etc/conf.d`, { recursive: true });
  Deno.writeTextFileSync(`${lower}/etc/keep`, "keep");
  Deno.writeTextFileSync(`${lower}/etc/change`, "old");
  Deno.writeTextFileSync(`${lower}/etc/gone1`, "1");
  Deno.writeTextFileSync(`${lower}/etc/gone2`, "2");
  Deno.writeTextFileSync(`${lower}/etc/conf.d/a`, "a");
  Deno.writeTextFileSync(`${lower}/etc/conf.d/b`, "b");
  Deno.mkdirSync(`${lower}/olddir/deep`, { recursive: true });
  Deno.writeTextFileSync(`${lower}/olddir/deep/x`, "x");
  Deno.writeTextFileSync(`${lower}/olddir/y`, "y");
}

/** What the container does in the merged view. */
function change(merged: string): void {
  Deno.writeTextFileSync(`${merged}/etc/change`, "new");
  Deno.removeSync(`${merged}/etc/gone1`);
  Deno.removeSync(`${merged}/etc/gone2`);
  Deno.removeSync(`${merged}/olddir`, { recursive: true });
  Deno.mkdirSync(`${merged}/olddir`, { mode: 0o750 });
  Deno.writeTextFileSync(`${merged}/olddir/y`, "new y");
  Deno.mkdirSync(`${merged}/new/sub`, { recursive: true });
  Deno.writeTextFileSync(`${merged}/new/sub/file`, "added");
  Deno.chownSync(`${merged}/new/sub/file`, 1000, 1001);
  Deno.chmodSync(`${merged}/new/sub/file`, 0o4755);
  Deno.linkSync(`${merged}/new/sub/file`, `${merged}/new/link`);
  Deno.symlinkSync("sub/file", `${merged}/new/sym`);
  lsetxattr(`${merged}/new/sub/file`, "user.note", new Uint8Array([0, 0xff, 0x0a]));
  Deno.utimeSync(`${merged}/new/sub/file`, 1_000_000, 1_000_000);
  Deno.removeSync(`${merged}/etc/conf.d/a`);
}

/** Mounts an overlay of `lower`, runs `change` in it, unmounts; returns the upper dir. */
function makeUpper(dir: string, mounted: string[]): string {
  for (const d of ["lower", "upper", "work", "merged"]) Deno.mkdirSync(`${dir}/${d}`);
  makeLower(`${dir}/lower`);
  const merged = `${dir}/merged`;
  mount(
    "overlay",
    merged,
    "overlay",
    0,
    `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`,
  );
  mounted.push(merged);
  change(merged);
  umount2(merged);
  mounted.pop();
  return `${dir}/upper`;
}

interface Entry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname: string | undefined;
  body: string;
  xattrs: string[];
}

async function entries(stream: ReadableStream<Uint8Array>): Promise<Entry[]> {
  const out: Entry[] = [];
  await runExtract(stream, (h, body, next, fail) => {
    const chunks: Uint8Array[] = [];
    body.on("data", (c: Uint8Array) => chunks.push(c));
    body.on("error", fail);
    body.on("end", () => {
      out.push({
        name: h.name.replace(/\/$/, ""),
        type: h.type ?? "",
        mode: h.mode ?? 0,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        linkname: h.linkname ?? undefined,
        body: new TextDecoder().decode(concat(chunks)),
        xattrs: [...(paxXattrs(h)?.keys() ?? [])],
      });
      next();
    });
  }, { what: "test layer" });
  return out;
}

/** Every path under `root` with its type, mode, owner, content or target and xattrs. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const names = [...Deno.readDirSync(`${root}${rel}`)].map((e) => e.name).sort();
    for (const name of names) {
      const path = `${rel}/${name}`;
      const info = Deno.lstatSync(`${root}${path}`);
      const xattrs = llistxattr(`${root}${path}`).filter((x) => !x.startsWith("trusted.overlay."))
        .map((x) => `${x}=${[...lgetxattr(`${root}${path}`, x) ?? []]}`);
      const what = info.isDirectory
        ? "dir"
        : info.isSymlink
        ? `link ${Deno.readLinkSync(`${root}${path}`)}`
        : `file ${Deno.readTextFileSync(`${root}${path}`)} ${
          Math.floor(info.mtime!.getTime() / 1000)
        }`;
      out[path] = `${what} ${(info.mode! & 0o7777).toString(8)} ${info.uid}:${info.gid} ${xattrs}`;
      if (info.isDirectory) walk(path);
    }
  };
  walk("");
  return out;
}

Deno.test("packUpper() writes OCI whiteouts, opaque markers, hardlinks and no overlay xattrs", async () => {
  await withDir(async (dir, mounted) => {
    const upper = makeUpper(dir, mounted);
    const got = await entries(packUpper(upper));
    assert.deepEqual(got.map((e) => [e.name, e.type]), [
      ["etc", "directory"],
      ["etc/change", "file"],
      ["etc/conf.d", "directory"],
      ["etc/conf.d/.wh.a", "file"],
      ["etc/.wh.gone1", "file"],
      ["etc/.wh.gone2", "file"],
      ["new", "directory"],
      ["new/link", "file"],
      ["new/sub", "directory"],
      ["new/sub/file", "link"],
      ["new/sym", "symlink"],
      ["olddir", "directory"],
      ["olddir/.wh..wh..opq", "file"],
      ["olddir/y", "file"],
    ]);
    const byName = new Map(got.map((e) => [e.name, e]));
    assert.equal(byName.get("etc/change")!.body, "new");
    // The shared whiteout inode overlayfs links deletions to is not a tar hardlink.
    for (const name of ["etc/.wh.gone1", "etc/.wh.gone2", "etc/conf.d/.wh.a"]) {
      assert.deepEqual([byName.get(name)!.mode, byName.get(name)!.body], [0o600, ""]);
    }
    const link = byName.get("new/link")!;
    assert.deepEqual([link.body, link.mode, link.uid, link.gid], ["added", 0o4755, 1000, 1001]);
    assert.deepEqual(link.xattrs, ["user.note"]);
    assert.equal(byName.get("new/sub/file")!.linkname, "new/link");
    assert.equal(byName.get("olddir")!.mode, 0o750);
    assert.equal(byName.get("olddir/.wh..wh..opq")!.mode, 0o750);
    for (const e of got) {
      assert.ok(!e.xattrs.some((x) => x.startsWith("trusted.overlay.")), e.name);
    }
  });
});

Deno.test("packUpper()'s layer applied over the lower shows what the container saw", async () => {
  await withDir(async (dir, mounted) => {
    const upper = makeUpper(dir, mounted);
    const tar = await readAll(packUpper(upper));
    assert.equal(tar.byteLength % 512, 0);
    Deno.mkdirSync(`${dir}/applied`);
    await applyLayer(streamOf(tar, 3000), `${dir}/applied`);
    const view = (name: string, layers: string) => {
      Deno.mkdirSync(`${dir}/${name}`);
      mount("overlay", `${dir}/${name}`, "overlay", MS_RDONLY, `lowerdir=${layers}`);
      mounted.push(`${dir}/${name}`);
      return snapshot(`${dir}/${name}`);
    };
    const want = view("want", `${upper}:${dir}/lower`);
    const got = view("got", `${dir}/applied:${dir}/lower`);
    assert.deepEqual(got, want);
    assert.ok(!("/etc/gone1" in got) && !("/olddir/deep" in got) && !("/etc/conf.d/a" in got));
    assert.ok(got["/olddir/y"]!.startsWith("file new y "));
    assert.ok(got["/etc/conf.d/b"]!.startsWith("file b "));
  });
});

Deno.test("packUpper() leaves excluded paths out", async () => {
  await withDir(async (dir, mounted) => {
    const upper = makeUpper(dir, mounted);
    const got = await entries(packUpper(upper, { exclude: ["new/sub", "etc/change"] }));
    const names = got.map((e) => e.name);
    assert.ok(names.includes("new/link") && names.includes("etc/.wh.gone1"));
    assert.ok(!names.some((n) => n.startsWith("new/sub") || n === "etc/change"), `${names}`);
  });
});
