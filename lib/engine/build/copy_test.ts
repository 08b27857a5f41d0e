import assert from "node:assert/strict";
import { BuildContext, type ContextEntry } from "../../build/context/mod.ts";
import {
  type LayerFile,
  packLayer,
  parseChmod,
  resolveChown,
  unpackArchive,
  withParents,
} from "./copy.ts";

const entry = (path: string, type: ContextEntry["type"], mode: number, uid = 0): ContextEntry => ({
  path,
  type,
  mode,
  uid,
  gid: uid,
  size: 0,
  mtime: new Date(0),
  linkTarget: "",
});

/** A context whose files have the given texts (bodies in memory). */
function view(files: Record<string, string>, dirs: ContextEntry[] = []): BuildContext {
  const bodies = new Map<string, { kind: "memory"; bytes: Uint8Array }>();
  const entries: ContextEntry[] = [...dirs];
  for (const [path, text] of Object.entries(files)) {
    const bytes = new TextEncoder().encode(text);
    bodies.set(path, { kind: "memory", bytes });
    entries.push({ ...entry(path, "file", 0o644), size: bytes.byteLength });
  }
  return new BuildContext(entry("", "directory", 0o755), entries, bodies);
}

Deno.test("resolveChown reads names from the image's passwd and group; parseChmod takes octal", async () => {
  const image = view({
    "etc/passwd": "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
    "etc/group": "root:x:0:\nstaff:x:50:\n",
  }, [entry("etc", "directory", 0o755)]);
  assert.deepEqual(await resolveChown("app", image), { uid: 1000, gid: 1001 });
  assert.deepEqual(await resolveChown("app:staff", image), { uid: 1000, gid: 50 });
  assert.deepEqual(await resolveChown("7", image), { uid: 7, gid: 7 });
  assert.deepEqual(await resolveChown("7:8", image), { uid: 7, gid: 8 });
  await assert.rejects(resolveChown("nobody", image), /no such user: nobody/);
  await assert.rejects(resolveChown("app:nogroup", image), /no such group: nogroup/);
  assert.equal(parseChmod("0750"), 0o750);
  assert.throws(() => parseChmod("u+x"), /invalid chmod parameter: u\+x/);
});

Deno.test("withParents keeps an existing directory's metadata and makes missing ones 0755", () => {
  const image = view({}, [entry("usr", "directory", 0o700, 5)]);
  const file: LayerFile = {
    path: "/usr/new/f",
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: new Date(0),
    linkTarget: "",
    size: 0,
  };
  const out = withParents([file], image, { uid: 9, gid: 9 });
  assert.deepEqual(out.map((f) => [f.path, f.mode.toString(8), f.uid]), [
    ["/usr", "700", 5],
    ["/usr/new", "755", 9],
    ["/usr/new/f", "644", 0],
  ]);
});

Deno.test("unpackArchive unpacks plain and gzip tars into the destination, and leaves other files alone", async () => {
  const files: LayerFile[] = [{
    path: "/a/b.txt",
    type: "file",
    mode: 0o600,
    uid: 3,
    gid: 4,
    mtime: new Date(0),
    linkTarget: "",
    size: 2,
    body: () => Promise.resolve(new TextEncoder().encode("hi")),
  }];
  const plain = new Uint8Array(await new Response(packLayer(files)).arrayBuffer());
  const gzip = new Uint8Array(
    await new Response(
      new Blob([plain]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  for (const bytes of [plain, gzip]) {
    const out = await unpackArchive(bytes, "/dest", undefined);
    assert.deepEqual(out?.map((f) => [f.path, f.type, f.mode, f.uid]), [
      ["/dest/a/b.txt", "file", 0o600, 3],
    ]);
  }
  assert.equal(
    await unpackArchive(new TextEncoder().encode("just text\n"), "/d", undefined),
    undefined,
  );
});
