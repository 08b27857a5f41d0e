/**
 * `berth pull`: resolve a tag or digest to a manifest (an index picks the
 * platform's entry), fetch the config, download the layers the store lacks in
 * parallel while extracting them, verify everything, then commit the image
 * with the registry's digest recorded as a repo digest.
 *
 * @module
 */
import { InflateWorkers } from "../archive/mod.ts";
import { chainIds, type Digest } from "../digest.ts";
import { InvalidError, NotFoundError } from "../errors.ts";
import {
  currentPlatform,
  familiarString,
  formatPlatform,
  formatReference,
  type Manifest,
  normalizePlatform,
  parseImageConfig,
  parseManifest,
  parseManifestOrIndex,
  type PlatformSpec,
  type Reference,
  repositoryName,
  selectPlatform,
} from "../image/mod.ts";
import type { FetchedManifest, RegistryClient } from "../registry/mod.ts";
import type { Store } from "../store/mod.ts";
import { mapLimit } from "./_pool.ts";
import { RegistryConfig } from "./auth_config.ts";
import { DistributionMeta } from "./distribution_meta.ts";
import { commitImage, discardStaged, type StagedImageLayer } from "./image_commit.ts";
import { type PullEvent, pullLayer, shortId } from "./image_pull_layer.ts";
import { addRepoDigests, listImages } from "./image_records.ts";

export type { PullEvent };

/** Options for {@linkcode pullImage}. */
export interface PullOptions {
  /** The platform to pick from an index. @default the host's */
  platform?: PlatformSpec;
  /** Credentials, insecure registries, mirrors. @default RegistryConfig.load() */
  registry?: RegistryConfig;
  /** Layers downloaded at once. @default 3 */
  maxConcurrentDownloads?: number;
  /** Receives progress in Docker's words. */
  onEvent?: (event: PullEvent) => void;
  /** The fetch the registry client uses. */
  fetch?: typeof fetch;
}

/** What {@linkcode pullImage} did. */
export interface PullResult {
  /** The reference pulled (tag or digest). */
  reference: Reference;
  /** The digest the registry serves for it (an index's own digest for an index). */
  digest: Digest;
  /** The image ID. */
  id: Digest;
  /** True when the store already had the image under this name. */
  upToDate: boolean;
}

/**
 * Pulls an image into the store.
 * @throws {RegistryError} `MANIFEST_UNKNOWN` for an unknown tag or digest
 * @throws {NotFoundError} when an index has no entry for the platform
 * @throws {DigestMismatchError} when a manifest, blob or layer does not match (nothing is stored)
 */
export async function pullImage(
  store: Store,
  ref: Reference,
  options: PullOptions = {},
): Promise<PullResult> {
  const emit = options.onEvent ?? (() => {});
  const registry = options.registry ?? RegistryConfig.load();
  const client = registry.client(ref.domain, options.fetch ? { fetch: options.fetch } : {});
  const name = familiarString(ref);
  const top = await client.getManifest(ref.path, ref.digest ?? ref.tag!, name);
  // Said once the registry has answered, as docker's pull does.
  emit({ status: `${ref.digest ?? ref.tag}: Pulling from ${ref.path}` });
  const { manifest, bytes } = await resolvePlatform(client, top, {
    ref,
    name,
    ...(options.platform !== undefined ? { platform: options.platform } : {}),
  });
  const configBytes = store.blobs.has(manifest.config.digest)
    ? store.blobs.read(manifest.config.digest)
    : await client.getBlob(ref.path, manifest.config);
  const config = parseImageConfig(configBytes);
  checkPlatform(config, options.platform, name);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new InvalidError(
      `Invalid image ${name}: ${manifest.layers.length} layers but ${diffIds.length} diff IDs`,
    );
  }
  const chains = chainIds(diffIds);
  const id = manifest.config.digest;
  const repoDigest = `${repositoryName(ref)}@${top.digest}`;
  const tagged = ref.digest === undefined ? [ref] : [];
  const result = { reference: ref, digest: top.digest, id };

  const existing = listImages(store).find((i) =>
    i.id === id && (ref.digest !== undefined || i.names.includes(formatReference(ref))) &&
    chains.every((c) => store.layers.has(c))
  );
  if (existing !== undefined) {
    await store.locked(() =>
      store.index.update((m) => addRepoDigests(m, existing.manifestDigest, [repoDigest]))
    );
    emit({ status: `Digest: ${top.digest}` });
    return { ...result, upToDate: true };
  }

  const have = manifest.layers.map((l, i) =>
    store.layers.has(chains[i]!) && store.blobs.has(l.digest)
  );
  const limit = options.maxConcurrentDownloads ?? 3;
  manifest.layers.forEach((layer, i) => {
    emit({ id: shortId(layer.digest), status: have[i] ? "Already exists" : "Pulling fs layer" });
  });
  const todo = manifest.layers.map((_, i) => i).filter((i) => !have[i]);
  todo.slice(limit).forEach((i) =>
    emit({ id: shortId(manifest.layers[i]!.digest), status: "Waiting" })
  );
  const workers = new InflateWorkers();
  let staged: StagedImageLayer[];
  try {
    staged = await mapLimit(
      manifest.layers,
      limit,
      (descriptor, i, signal) =>
        have[i]
          ? Promise.resolve({
            descriptor,
            info: store.layers.info(chains[i]!) ??
              { chainId: chains[i]!, diffId: diffIds[i]!, size: 0 },
          })
          : pullLayer({
            store,
            client,
            repo: ref.path,
            descriptor,
            diffId: diffIds[i]!,
            chainId: chains[i]!,
            emit,
            signal,
            workers,
          }),
      (partial) => discardStaged(store, partial.filter((l) => l !== undefined)),
    );
  } finally {
    workers.close();
  }
  emit({ status: `Digest: ${top.digest}` });
  await commitImage(store, config, staged, tagged, {
    configBytes,
    manifestBytes: bytes,
    repoDigests: [repoDigest],
  });
  const repo = repositoryName(ref);
  await new DistributionMeta(store).record({
    sources: [manifest.config, ...manifest.layers].map((d) => [d.digest, repo]),
  });
  return { ...result, upToDate: false };
}

/** The image manifest to pull: the document itself, or an index's entry for the platform. */
async function resolvePlatform(
  client: RegistryClient,
  top: FetchedManifest,
  { ref, name, platform }: { ref: Reference; name: string; platform?: PlatformSpec },
): Promise<{ manifest: Manifest; bytes: Uint8Array }> {
  const doc = parseManifestOrIndex(top.bytes, top.mediaType);
  if (doc.kind === "manifest") return { manifest: doc.manifest, bytes: top.bytes };
  const want = platform ?? currentPlatform();
  const entry = selectPlatform(doc.index, want);
  if (entry === undefined) {
    throw new NotFoundError(
      `No matching manifest for ${
        formatPlatform(normalizePlatform(want))
      } in the manifest list entries of ${name}`,
    );
  }
  const fetched = await client.getManifest(ref.path, entry.digest, `${name}@${entry.digest}`);
  return { manifest: parseManifest(fetched.bytes, fetched.mediaType), bytes: fetched.bytes };
}

function checkPlatform(
  config: { os: string; architecture: string; variant?: string },
  wanted: PlatformSpec | undefined,
  name: string,
): void {
  if (wanted === undefined) return;
  const want = normalizePlatform(wanted);
  const have = normalizePlatform(config);
  if (want.os !== have.os || want.architecture !== have.architecture) {
    throw new NotFoundError(
      `Image ${name} was found but does not match the specified platform: wanted ${
        formatPlatform(want)
      }, actual: ${formatPlatform(have)}`,
    );
  }
}
