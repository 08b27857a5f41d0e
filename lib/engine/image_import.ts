/**
 * `berth import`: a rootfs tarball (plain, gzip or zstd) becomes a one-layer
 * image; the source is read once, as layer_stage.ts stages any layer.
 *
 * @module
 */
import { applyChanges } from "../build/mod.ts";
import type { ImageConfig, Reference } from "../image/mod.ts";
import type { Store } from "../store/mod.ts";
import { commitImage, type CommittedImage } from "./image_commit.ts";
import { currentPlatform } from "../image/mod.ts";
import { stageTar } from "./layer_stage.ts";

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
  const { layer } = await stageTar(store, source, { onProgress: options.onProgress });
  const now = new Date().toISOString();
  const platform = options.platform ?? currentPlatform();
  const comment = options.message ?? `Imported from ${options.sourceName ?? "-"}`;
  const config: ImageConfig = {
    created: now,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
    config: containerConfig,
    rootfs: { type: "layers", diff_ids: [layer.info.diffId] },
    history: [{ created: now, comment }],
  };
  return await commitImage(
    store,
    config,
    [layer],
    options.reference === undefined ? [] : [options.reference],
  );
}
