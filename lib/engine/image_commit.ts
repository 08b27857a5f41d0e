/**
 * The last step every way of adding an image shares (import, load, later pull
 * and build): under the store lock, make staged blobs and layers visible,
 * store config and manifest, and point the tags at the manifest.
 *
 * @module
 */
import type { Digest } from "../digest.ts";
import {
  type Descriptor,
  encodeJson,
  formatReference,
  type ImageConfig,
  type LayerCompression,
  type Manifest,
  MEDIA_TYPES,
  type Reference,
} from "../image/mod.ts";
import type { LayerInfo, StagedBlob, StagedLayer, Store } from "../store/mod.ts";
import { addRepoDigests, tagInIndex } from "./image_records.ts";

/** A layer ready to be committed: its blob and/or extracted tree, both staged. */
export interface StagedImageLayer {
  descriptor: Descriptor;
  info: LayerInfo;
  /** Undefined when the store already has the blob. */
  blob?: StagedBlob;
  /** Undefined when the store already has the extracted layer. */
  tree?: StagedLayer;
}

/** The OCI media type of a layer blob with this compression. */
export function layerMediaType(compression: LayerCompression): string {
  return compression === "gzip"
    ? MEDIA_TYPES.OCI_LAYER_GZIP
    : compression === "zstd"
    ? MEDIA_TYPES.OCI_LAYER_ZSTD
    : MEDIA_TYPES.OCI_LAYER;
}

/** Drops everything staged (after a failure). */
export function discardStaged(store: Store, layers: readonly StagedImageLayer[]): void {
  for (const layer of layers) {
    if (layer.blob !== undefined) store.blobs.discard(layer.blob);
    if (layer.tree !== undefined) store.layers.discard(layer.tree);
  }
}

/** What {@linkcode commitImage} stored. */
export interface CommittedImage {
  id: Digest;
  manifest: Descriptor;
}

/**
 * Stores a new image: layers, config, an OCI manifest, and its tags.
 * On failure the staged parts are dropped, and the index is unchanged.
 */
export async function commitImage(
  store: Store,
  config: ImageConfig,
  layers: readonly StagedImageLayer[],
  names: readonly Reference[],
  options: {
    configBytes?: Uint8Array;
    manifestBytes?: Uint8Array;
    /** `repo@digest` names the image was pulled as (the REPO_DIGESTS annotation). */
    repoDigests?: readonly string[];
  } = {},
): Promise<CommittedImage> {
  const configBytes = options.configBytes ?? encodeJson(config);
  let manifestBytes = options.manifestBytes;
  const configBlob = store.blobs.stageBytes(configBytes);
  if (manifestBytes === undefined) {
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.OCI_MANIFEST,
      config: {
        mediaType: MEDIA_TYPES.OCI_CONFIG,
        digest: configBlob.digest,
        size: configBlob.size,
      },
      layers: layers.map((l) => l.descriptor),
    };
    manifestBytes = encodeJson(manifest);
  }
  const manifestBlob = store.blobs.stageBytes(manifestBytes);
  const mediaType = manifestMediaType(manifestBytes);
  try {
    await store.locked(() => {
      for (const layer of layers) {
        if (layer.blob !== undefined) store.blobs.commit(layer.blob);
        if (layer.tree !== undefined) store.layers.commit(layer.tree, layer.info);
      }
      store.blobs.commit(configBlob);
      store.blobs.commit(manifestBlob);
      const descriptor: Descriptor = {
        mediaType,
        digest: manifestBlob.digest,
        size: manifestBlob.size,
      };
      store.index.update((manifests) => {
        let out = tagInIndex(manifests, descriptor, undefined);
        for (const name of names) out = tagInIndex(out, descriptor, formatReference(name));
        return addRepoDigests(out, descriptor.digest, options.repoDigests ?? []);
      });
    });
  } catch (error) {
    store.blobs.discard(configBlob);
    store.blobs.discard(manifestBlob);
    discardStaged(store, layers);
    throw error;
  }
  return {
    id: configBlob.digest,
    manifest: { mediaType, digest: manifestBlob.digest, size: manifestBlob.size },
  };
}

function manifestMediaType(bytes: Uint8Array): string {
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: unknown };
  return typeof parsed.mediaType === "string" ? parsed.mediaType : MEDIA_TYPES.OCI_MANIFEST;
}
