/**
 * Turning a layer tar into a staged layer (its blob and its extracted tree,
 * both in `tmp/`) and making staged layers visible: what `import`, `commit`
 * and each layer-making step of a build share. The source is read once: each
 * chunk is written to the blob (hashed) and fed to the extractor (which
 * hashes the uncompressed tar for the diff ID), with back-pressure, so memory
 * stays flat for any size.
 *
 * @module
 */
import { type AppliedLayer, applyLayer } from "../archive/mod.ts";
import { type Digest, sha256 } from "../digest.ts";
import { InvalidError } from "../errors.ts";
import { MEDIA_TYPES } from "../image/mod.ts";
import { BlobWriter, type Store } from "../store/mod.ts";
import { discardStaged, layerMediaType, type StagedImageLayer } from "./image_commit.ts";

/** Options for {@linkcode stageLayer}. */
export interface StageLayerOptions {
  /**
   * Chain ID of the layer below this one in the image (the last of
   * `chainIds(diff_ids)` of the parent image); undefined for a bottom layer.
   * Extracted trees are stored by chain ID, so a layer staged without its
   * parent's chain is not found under an image that has layers below it.
   * @default undefined
   */
  parent?: Digest | undefined;
  /** Bytes read from the source so far. */
  onProgress?: ((bytes: number) => void) | undefined;
}

/**
 * Stores an uncompressed layer tar as a blob (media type `OCI_LAYER`, its
 * digest the diff ID, checked while streaming) and extracts it into a layer
 * tree; both stay staged until {@linkcode commitLayers} or `commitImage`.
 * @param tar the layer, uncompressed (as `packUpper` writes it); consumed,
 *   or cancelled on failure
 * @returns the staged layer; `info.chainId` is built on `options.parent`
 * @throws {InvalidError} for a compressed or corrupt tar; nothing stays staged
 */
export async function stageLayer(
  store: Store,
  tar: ReadableStream<Uint8Array>,
  options: StageLayerOptions = {},
): Promise<StagedImageLayer> {
  const { layer, applied } = await stageTar(store, tar, options);
  if (applied.compression !== "none" || layer.descriptor.digest !== applied.diffId) {
    discardStaged(store, [layer]);
    throw new InvalidError(
      applied.compression !== "none"
        ? `Invalid layer archive: expected an uncompressed tar, got ${applied.compression}`
        : `Invalid layer archive: its digest ${layer.descriptor.digest} is not its diff ID ${applied.diffId}`,
    );
  }
  layer.descriptor.mediaType = MEDIA_TYPES.OCI_LAYER;
  return layer;
}

/**
 * Stages a layer tar that may be compressed (`import` keeps a gzip or zstd
 * source as it is): the blob holds the source's bytes, with the media type of
 * its compression.
 * @throws {InvalidError} for unsupported compression or a corrupt archive; nothing stays staged
 */
export async function stageTar(
  store: Store,
  source: ReadableStream<Uint8Array>,
  options: StageLayerOptions = {},
): Promise<{ layer: StagedImageLayer; applied: AppliedLayer }> {
  const writer = new BlobWriter(store.tmpDir);
  const tree = store.layers.stage();
  const reader = source.getReader();
  let bytesIn = 0;
  const teed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      writer.write(value);
      bytesIn += value.byteLength;
      options.onProgress?.(bytesIn);
      controller.enqueue(value);
    },
  }, { highWaterMark: 0 });
  let applied: AppliedLayer;
  try {
    applied = await applyLayer(teed, tree.diff);
    // The extractor may stop at the end-of-archive marker; the blob needs every byte.
    for (let r = await reader.read(); !r.done; r = await reader.read()) writer.write(r.value);
  } catch (error) {
    writer.abort();
    store.layers.discard(tree);
    await reader.cancel().catch(() => {});
    throw error;
  }
  const blob = writer.finish();
  const parent = options.parent;
  const chainId = parent === undefined ? applied.diffId : sha256(`${parent} ${applied.diffId}`);
  return {
    layer: {
      descriptor: {
        mediaType: layerMediaType(applied.compression),
        digest: blob.digest,
        size: blob.size,
      },
      info: { chainId, diffId: applied.diffId, size: applied.size },
      blob,
      tree,
    },
    applied,
  };
}

/**
 * Makes staged blobs and trees visible under the store lock, without
 * touching `index.json`, then calls `then` still under the lock (where a
 * build records the cache entry that keeps the layers from GC). Afterwards
 * the layers hold no staged parts (`blob` and `tree` are unset), so they may
 * still be passed to `commitImage`, which then only refers to them.
 * @throws whatever committing or `then` throws; what was staged is discarded
 */
export async function commitLayers(
  store: Store,
  layers: readonly StagedImageLayer[],
  then?: () => void,
): Promise<void> {
  try {
    await store.locked(() => {
      for (const layer of layers) {
        if (layer.blob !== undefined) store.blobs.commit(layer.blob);
        if (layer.tree !== undefined) store.layers.commit(layer.tree, layer.info);
      }
      then?.();
    });
  } catch (error) {
    discardStaged(store, layers);
    throw error;
  }
  for (const layer of layers) {
    delete layer.blob;
    delete layer.tree;
  }
}
