/**
 * `berth import`: a rootfs tarball (plain, gzip or zstd) becomes a one-layer
 * image. The source is read once: each chunk is written to the layer blob
 * (hashed) and fed to the extractor (which hashes the uncompressed tar for the
 * diff ID), with back-pressure, so memory stays flat for any size.
 *
 * @module
 */
import { applyLayer } from "../archive/mod.ts";
import { applyChanges } from "../build/mod.ts";
import type { ImageConfig, Reference } from "../image/mod.ts";
import { BlobWriter, type Store } from "../store/mod.ts";
import { commitImage, type CommittedImage, layerMediaType } from "./image_commit.ts";
import { currentPlatform } from "../image/mod.ts";

/** Options for {@linkcode importImage}. */
export interface ImportOptions {
  /** Name to tag the image with. */
  reference?: Reference;
  /** Dockerfile instructions applied to the config (`--change`). */
  changes?: string[];
  /** Commit message (`--message`), stored as the history comment. */
  message?: string;
  /** Shown in the history comment: `Imported from <source>`. @default "-" */
  sourceName?: string;
  /** Platform `os/arch[/variant]` of the image. @default the host's */
  platform?: { os: string; architecture: string; variant?: string };
  /** Bytes read from the source so far. */
  onProgress?: (bytes: number) => void;
}

/**
 * Imports a rootfs tarball as a new image and returns its ID.
 * @throws {InvalidError} for a bad `--change` (before anything is read) or a corrupt archive
 */
export async function importImage(
  store: Store,
  source: ReadableStream<Uint8Array>,
  options: ImportOptions = {},
): Promise<CommittedImage> {
  const containerConfig = applyChanges({}, options.changes ?? []);
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
  let applied;
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
  const now = new Date().toISOString();
  const platform = options.platform ?? currentPlatform();
  const comment = options.message ?? `Imported from ${options.sourceName ?? "-"}`;
  const config: ImageConfig = {
    created: now,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
    config: containerConfig,
    rootfs: { type: "layers", diff_ids: [applied.diffId] },
    history: [{ created: now, comment }],
  };
  return await commitImage(
    store,
    config,
    [{
      descriptor: {
        mediaType: layerMediaType(applied.compression),
        digest: blob.digest,
        size: blob.size,
      },
      info: { chainId: applied.diffId, diffId: applied.diffId, size: applied.size },
      blob,
      tree,
    }],
    options.reference === undefined ? [] : [options.reference],
  );
}
