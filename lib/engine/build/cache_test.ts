import assert from "node:assert/strict";
import { openStore } from "../../store/mod.ts";
import { cacheKey, listCache, pruneCache, readCache, writeCache } from "./cache.ts";
import { collectGarbage } from "../image_gc.ts";

Deno.test("cache entries round-trip, miss when a layer is gone, keep layers from GC, and prune", async () => {
  const root = await Deno.makeTempDir();
  try {
    const store = openStore(root);
    const blob = store.blobs.stageBytes(new TextEncoder().encode("layer bytes"));
    const staged = store.layers.stage();
    Deno.writeTextFileSync(`${staged.diff}/f`, "x");
    const diffId = blob.digest;
    await store.locked(() => {
      store.blobs.commit(blob);
      store.layers.commit(staged, { chainId: diffId, diffId, size: 11 });
    });
    const layer = {
      descriptor: {
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: blob.digest,
        size: 11,
      },
      diffId,
      chainId: diffId,
      size: 11,
    };
    const key = cacheKey(["parent", "RUN x", "[]"]);
    assert.notEqual(key, cacheKey(["parent", "RUN y", "[]"]));
    assert.equal(readCache(store, key), undefined);
    const entry = { config: '{"a":1}', layers: [layer], created: "2026-01-01T00:00:00Z" };
    await store.locked(() => writeCache(store, key, entry));
    assert.deepEqual(readCache(store, key), entry);

    // Nothing in the index names the layer, but the cache does: GC keeps it.
    await store.locked(() => collectGarbage(store));
    assert.ok(store.blobs.has(blob.digest));
    assert.ok(store.layers.has(diffId));

    // Dangling-only prune keeps an entry whose top layer an image has; -a removes it.
    assert.deepEqual(pruneCache(store, false, new Set([diffId])).removed, []);
    assert.deepEqual(pruneCache(store, true, new Set([diffId])).removed, [key]);
    assert.deepEqual(listCache(store), []);
    await store.locked(() => collectGarbage(store));
    assert.ok(!store.blobs.has(blob.digest));

    // An entry naming a layer the store lost is a miss.
    await store.locked(() => writeCache(store, key, entry));
    assert.equal(readCache(store, key), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
