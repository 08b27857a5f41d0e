/**
 * One layer-making step's end: its tar staged (blob and extracted tree),
 * then committed under the store lock together with the cache entry that
 * names it, so the garbage collector never sees the layer unreferenced.
 *
 * @module
 */
import type { Digest } from "../../digest.ts";
import type { Store } from "../../store/mod.ts";
import { commitLayers, stageLayer } from "../layer_stage.ts";
import type { CachedLayer } from "./cache.ts";

/**
 * Stages `tar` on top of `parent` and commits it; `then` runs under the
 * store lock once the layer is visible (write the cache entry there).
 */
export async function storeLayer(
  store: Store,
  tar: ReadableStream<Uint8Array>,
  parent: Digest | undefined,
  then: (layer: CachedLayer) => void,
): Promise<CachedLayer> {
  const staged = await stageLayer(store, tar, { parent });
  const layer: CachedLayer = {
    descriptor: staged.descriptor,
    diffId: staged.info.diffId,
    chainId: staged.info.chainId,
    size: staged.info.size,
  };
  await commitLayers(store, [staged], () => then(layer));
  return layer;
}
