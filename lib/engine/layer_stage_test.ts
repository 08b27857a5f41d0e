import assert from "node:assert/strict";
import { packDir } from "../archive/mod.ts";
import { chainIds, sha256 } from "../digest.ts";
import { InvalidError } from "../errors.ts";
import { MEDIA_TYPES } from "../image/mod.ts";
import { openStore, type Store } from "../store/mod.ts";
import { commitImage } from "./image_commit.ts";
import { listImages } from "./image_records.ts";
import { commitLayers, stageLayer } from "./layer_stage.ts";

async function withStore(fn: (store: Store, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "berth-layer-stage-" });
  try {
    await fn(openStore(`${dir}/root`), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function makeTree(dir: string, text: string): string {
  Deno.mkdirSync(`${dir}/src/etc`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/src/etc/motd`, text);
  return `${dir}/src`;
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const tmpEntries = (store: Store) => [...Deno.readDirSync(store.tmpDir)].map((e) => e.name);

Deno.test("stageLayer() stages blob and tree unseen; commitLayers() shows them, index untouched", async () => {
  await withStore(async (store, dir) => {
    const tar = await bytesOf(packDir(makeTree(dir, "hi"), { name: "" }));
    const layer = await stageLayer(store, new Blob([tar]).stream());
    const digest = sha256(tar);
    assert.deepEqual(layer.descriptor, {
      mediaType: MEDIA_TYPES.OCI_LAYER,
      digest,
      size: tar.byteLength,
    });
    assert.deepEqual(layer.info, { chainId: digest, diffId: digest, size: tar.byteLength });
    assert.ok(!store.blobs.has(digest) && !store.layers.has(digest));
    assert.equal(Deno.readTextFileSync(`${layer.tree!.diff}/etc/motd`), "hi");
    const index = Deno.readTextFileSync(store.index.path);
    let seen: [boolean, boolean] | undefined;
    await commitLayers(store, [layer], () => {
      seen = [store.blobs.has(digest), store.layers.has(digest)];
    });
    assert.deepEqual(seen, [true, true]);
    assert.equal(Deno.readTextFileSync(`${store.layers.diffPath(digest)}/etc/motd`), "hi");
    assert.deepEqual(store.blobs.read(digest), tar);
    assert.equal(Deno.readTextFileSync(store.index.path), index);
    assert.deepEqual([layer.blob, layer.tree], [undefined, undefined]);
    assert.deepEqual(tmpEntries(store), []);
  });
});

Deno.test("stageLayer() builds the chain ID on its parent, and commitImage() takes the result", async () => {
  await withStore(async (store, dir) => {
    const base = await stageLayer(store, packDir(makeTree(`${dir}/a`, "base"), { name: "" }));
    const top = await stageLayer(store, packDir(makeTree(`${dir}/b`, "top"), { name: "" }), {
      parent: base.info.chainId,
    });
    const diffIds = [base.info.diffId, top.info.diffId];
    assert.deepEqual([base.info.chainId, top.info.chainId], chainIds(diffIds));
    await commitLayers(store, [base, top]);
    const { id } = await commitImage(
      store,
      {
        architecture: "amd64",
        os: "linux",
        rootfs: { type: "layers", diff_ids: diffIds },
      },
      [base, top],
      [],
    );
    const image = listImages(store).find((i) => i.id === id);
    assert.deepEqual(image?.chainIds, chainIds(diffIds));
    assert.equal(
      Deno.readTextFileSync(`${store.layers.diffPath(top.info.chainId)}/etc/motd`),
      "top",
    );
  });
});

Deno.test("stageLayer() refuses a compressed or corrupt tar and leaves nothing staged", async () => {
  await withStore(async (store, dir) => {
    const tar = await bytesOf(packDir(makeTree(dir, "x"), { name: "" }));
    const gz = new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"));
    await assert.rejects(stageLayer(store, gz), InvalidError);
    const bad = new Uint8Array(1024).fill(7);
    await assert.rejects(stageLayer(store, new Blob([bad]).stream()), InvalidError);
    assert.deepEqual(tmpEntries(store), []);
    assert.deepEqual([store.blobs.list(), store.layers.list()], [[], []]);
  });
});

Deno.test("commitLayers() passes on what `then` throws and leaves no staged parts", async () => {
  await withStore(async (store, dir) => {
    const layer = await stageLayer(store, packDir(makeTree(dir, "x"), { name: "" }));
    await assert.rejects(
      commitLayers(store, [layer], () => {
        throw new Error("cache entry failed");
      }),
      /cache entry failed/,
    );
    assert.deepEqual(tmpEntries(store), []);
  });
});
