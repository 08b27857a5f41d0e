import assert from "node:assert/strict";
import { chainIds, type Digest, sha256 } from "../../digest.ts";
import { lsetxattr, mknod } from "../../../ffi/fs.ts";
import { openStore, type Store } from "../../store/mod.ts";
import { lookup, resolveCopy } from "../../build/context/mod.ts";
import { layerContext } from "./fs_view.ts";

/** Commits layers made by `fill` (bottom first) and returns their chain IDs. */
function makeLayers(store: Store, fills: ((diff: string) => void)[]): Digest[] {
  const diffIds = fills.map((_, i) => sha256(`layer ${i}`));
  const chains = chainIds(diffIds);
  fills.forEach((fill, i) => {
    const staged = store.layers.stage();
    fill(staged.diff);
    store.layers.commit(staged, { chainId: chains[i]!, diffId: diffIds[i]!, size: 0 });
  });
  return chains;
}

Deno.test("layerContext merges layers top-down with whiteouts and opaque directories", async () => {
  const root = await Deno.makeTempDir();
  try {
    const store = openStore(root);
    const chains = makeLayers(store, [
      (d) => {
        Deno.mkdirSync(`${d}/etc`);
        Deno.writeTextFileSync(`${d}/etc/passwd`, "root:x:0:0::/root:/bin/sh\n");
        Deno.writeTextFileSync(`${d}/etc/gone`, "old");
        Deno.mkdirSync(`${d}/opq/sub`, { recursive: true });
        Deno.writeTextFileSync(`${d}/opq/old.txt`, "old");
        Deno.mkdirSync(`${d}/keep`);
        Deno.writeTextFileSync(`${d}/keep/low.txt`, "low");
        Deno.symlinkSync("/etc", `${d}/link`);
      },
      (d) => {
        Deno.mkdirSync(`${d}/etc`);
        mknod(`${d}/etc/gone`, 0o020000, 0, 0);
        Deno.mkdirSync(`${d}/opq`);
        lsetxattr(`${d}/opq`, "trusted.overlay.opaque", new TextEncoder().encode("y"));
        Deno.writeTextFileSync(`${d}/opq/new.txt`, "new");
        Deno.mkdirSync(`${d}/keep`);
        Deno.writeTextFileSync(`${d}/keep/high.txt`, "high");
        Deno.writeTextFileSync(`${d}/keep/low.txt`, "replaced");
      },
    ]);
    const view = await layerContext(store, chains);
    const paths = view.entries().map((e) => e.path);
    assert.deepEqual(paths, [
      "etc",
      "etc/passwd",
      "keep",
      "keep/high.txt",
      "keep/low.txt",
      "link",
      "opq",
      "opq/new.txt",
    ]);
    assert.equal(new TextDecoder().decode(await view.readFile("keep/low.txt")), "replaced");
    // A symlink resolves inside the layers, never on the host.
    assert.equal(lookup(view, "link/passwd", true)?.path, "etc/passwd");
    const items = resolveCopy(view, ["/keep"], "/out/");
    assert.deepEqual(items.map((i) => i.dest), ["/out/high.txt", "/out/low.txt"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
