/**
 * `berth push`: send an image's blobs the registry lacks (HEAD first; a
 * cross-repository mount when the blob is known to be in another repository
 * of the same registry; else an upload), gzip-compressing uncompressed layers
 * on the way (kept in the store for the next push), then its manifest.
 *
 * @module
 */
import type { Digest } from "../digest.ts";
import { NotFoundError } from "../errors.ts";
import {
  type Descriptor,
  encodeJson,
  familiarName,
  familiarString,
  layerCompression,
  type Reference,
  repositoryName,
} from "../image/mod.ts";
import type { RegistryClient } from "../registry/mod.ts";
import type { Store } from "../store/mod.ts";
import { mapLimit } from "./_pool.ts";
import { RegistryConfig } from "./auth_config.ts";
import { DistributionMeta } from "./distribution_meta.ts";
import { pushCompressed } from "./image_push_compress.ts";
import type { PullEvent } from "./image_pull_layer.ts";
import { addRepoDigests, findByReference, type ImageRecord, listImages } from "./image_records.ts";

/** A progress event of a push (`Preparing`, `Pushing`, `Pushed`, `Layer already exists`). */
export type PushEvent = PullEvent;

/** Options for {@linkcode pushImage}. */
export interface PushOptions {
  /** Credentials, insecure registries. @default RegistryConfig.load() */
  registry?: RegistryConfig;
  /** Blobs uploaded at once. @default 3 */
  maxConcurrentUploads?: number;
  /** zlib level for uncompressed layers when igzip is not used (igzip runs at its level 1). @default 1 */
  compressionLevel?: number;
  /** Blobs below this size go in one PUT, others in PATCH chunks. @default 5 MiB */
  monolithicLimit?: number;
  /** PATCH chunk size. @default 64 MiB */
  chunkSize?: number;
  onEvent?: (event: PushEvent) => void;
  fetch?: typeof fetch;
}

/** What {@linkcode pushImage} sent. */
export interface PushResult {
  tag: string;
  digest: Digest;
  /** Size of the manifest in bytes. */
  size: number;
}

/**
 * Pushes a tagged image to the registry its name points to.
 * @throws {NotFoundError} `An image does not exist locally with the tag: NAME`
 * @throws {RegistryError} with the registry's code when it refuses something
 */
export async function pushImage(
  store: Store,
  ref: Reference,
  options: PushOptions = {},
): Promise<PushResult> {
  const emit = options.onEvent ?? (() => {});
  const record = findByReference(listImages(store), ref);
  if (record === undefined || ref.tag === undefined) {
    throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(ref)}`);
  }
  const registry = options.registry ?? RegistryConfig.load();
  const meta = new DistributionMeta(store);
  const ctx: PushContext = {
    store,
    meta,
    ref,
    options,
    emit,
    client: registry.client(ref.domain, options.fetch ? { fetch: options.fetch } : {}),
  };
  const repo = repositoryName(ref);
  emit({ status: `The push refers to repository [${familiarName(ref)}]` });
  const diffIds = record.config.rootfs.diff_ids;
  const ids = record.manifest.layers.map((l, i) => (diffIds[i] ?? l.digest).slice(7, 19));
  const order = record.manifest.layers.map((_, i) => i).reverse();
  for (const i of order) emit({ id: ids[i]!, status: "Preparing" });
  const limit = options.maxConcurrentUploads ?? 3;
  order.slice(limit).forEach((i) => emit({ id: ids[i]!, status: "Waiting" }));
  const sent = new Map<number, Descriptor>();
  await mapLimit(order, limit, async (i) => {
    sent.set(i, await pushLayer(ctx, record.manifest.layers[i]!, ids[i]!));
  });
  const config = record.manifest.config;
  await pushBlob(ctx, config, () => {});
  const { bytes, mediaType } = manifestFor(store, record, sent);
  const digest = await ctx.client.putManifest(ref.path, ref.tag, bytes, mediaType);
  await meta.record({ sources: [config, ...sent.values()].map((d) => [d.digest, repo]) });
  await store.locked(() =>
    store.index.update((m) =>
      record.manifests.reduce((out, md) => addRepoDigests(out, md, [`${repo}@${digest}`]), m)
    )
  );
  emit({ status: `${ref.tag}: digest: ${digest} size: ${bytes.byteLength}` });
  return { tag: ref.tag, digest, size: bytes.byteLength };
}

/** Every tag of `ref`'s repository in the store, for `push --all-tags`. */
export function localTags(store: Store, ref: Reference): Reference[] {
  const prefix = `${repositoryName(ref)}:`;
  const names = listImages(store).flatMap((i) => i.names).filter((n) => n.startsWith(prefix));
  return [...new Set(names)].sort().map((n) => ({ ...ref, tag: n.slice(prefix.length) }));
}

/** What the steps of one push share. */
interface PushContext {
  store: Store;
  meta: DistributionMeta;
  client: RegistryClient;
  ref: Reference;
  options: PushOptions;
  emit: (event: PushEvent) => void;
}

/** Pushes one layer (shown as `id`); returns its descriptor as pushed. */
async function pushLayer(ctx: PushContext, layer: Descriptor, id: string): Promise<Descriptor> {
  const { emit, options } = ctx;
  const known = compressedCopy(ctx, layer);
  if (known === undefined) {
    // An uncompressed layer pushed for the first time: gzip it on the way.
    const gz = await pushCompressed(ctx.store, ctx.client, {
      repo: ctx.ref.path,
      blob: layer.digest,
    }, {
      ...(options.compressionLevel !== undefined ? { level: options.compressionLevel } : {}),
      onProgress: (current) => emit({ id, status: "Pushing", current }),
    });
    await ctx.meta.record({ compressed: [[layer.digest, gz.digest]] });
    emit({ id, status: "Pushed" });
    return { mediaType: gzipType(layer.mediaType), ...gz };
  }
  const how = await pushBlob(ctx, known, (current) => {
    emit({ id, status: "Pushing", current, total: known.size });
  });
  emit({ id, status: how });
  return known;
}

/**
 * The layer as it is pushed: itself when compressed, else the gzip copy an
 * earlier push stored; undefined when that copy is still to be made.
 */
function compressedCopy(ctx: PushContext, layer: Descriptor): Descriptor | undefined {
  if (layerCompression(layer.mediaType) !== "none") return layer;
  const known = ctx.meta.compressedOf(layer.digest);
  if (known === undefined) return undefined;
  return {
    mediaType: gzipType(layer.mediaType),
    digest: known,
    size: ctx.store.blobs.stat(known)!,
  };
}

/** The gzip media type of an uncompressed layer type (Docker's or OCI's family). */
function gzipType(mediaType: string): string {
  return mediaType.includes("docker") ? `${mediaType}.gzip` : `${mediaType}+gzip`;
}

/** Sends one blob unless the registry has it; returns Docker's word for what happened. */
async function pushBlob(
  ctx: PushContext,
  blob: Descriptor,
  onProgress: (bytes: number) => void,
): Promise<string> {
  const { client, store, meta, ref, options } = ctx;
  if (await client.hasBlob(ref.path, blob.digest, true)) return "Layer already exists";
  const from = meta.sources(blob.digest)
    .filter((r) => r.startsWith(`${ref.domain}/`) && r !== repositoryName(ref))
    .map((r) => r.slice(ref.domain.length + 1))[0];
  const result = await client.uploadBlob(
    ref.path,
    blob,
    async () => (await store.blobs.open(blob.digest)).readable,
    {
      onProgress,
      ...(from !== undefined ? { mountFrom: from } : {}),
      ...(options.monolithicLimit !== undefined
        ? { monolithicLimit: options.monolithicLimit }
        : {}),
      ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    },
  );
  return result.mounted ? `Mounted from ${result.from}` : "Pushed";
}

/** The stored manifest, or a copy naming the compressed layers that were pushed instead. */
function manifestFor(
  store: Store,
  record: ImageRecord,
  sent: Map<number, Descriptor>,
): { bytes: Uint8Array<ArrayBuffer>; mediaType: string } {
  const stored = store.blobs.read(record.manifestDigest);
  const mediaType = record.descriptor.mediaType;
  const changed = record.manifest.layers.some((l, i) => sent.get(i)?.digest !== l.digest);
  if (!changed) return { bytes: new Uint8Array(stored), mediaType };
  const layers = record.manifest.layers.map((l, i) => ({ ...l, ...sent.get(i)! }));
  const manifest = { ...record.manifest, layers };
  return { bytes: new Uint8Array(encodeJson(manifest)), mediaType };
}
