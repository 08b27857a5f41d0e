/**
 * The images a store holds, as Docker sees them: one record per image ID
 * (the config's digest) with its tags, manifest, config and layers; and the
 * lookup of a user's `NAME[:TAG]`, `NAME@DIGEST` or ID prefix.
 *
 * @module
 */
import { chainIds, type Digest } from "../digest.ts";
import { ConflictError, InvalidError, NotFoundError } from "../errors.ts";
import {
  type Descriptor,
  familiarString,
  formatReference,
  type ImageConfig,
  type Manifest,
  parseImageConfig,
  parseManifest,
  parseReference,
  type Reference,
} from "../image/mod.ts";
import { REF_NAME, type Store, writeFileAtomic } from "../store/mod.ts";

/** The annotation berth adds to record `repo@digest` names of pulled images. */
export const REPO_DIGESTS = "io.berth.image.repo-digests";

/** One image of the store. */
export interface ImageRecord {
  /** The image ID: the config's digest. */
  id: Digest;
  manifestDigest: Digest;
  /** Every manifest in the index whose config is this image's (usually one). */
  manifests: Digest[];
  /** Descriptor of the manifest (media type, size) as `index.json` has it. */
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  /** Full references that tag it (`docker.io/library/busybox:latest`). */
  names: string[];
  /** `repo@sha256:...` of registries it came from. */
  repoDigests: string[];
  chainIds: Digest[];
  /** Sum of its layers' uncompressed sizes. */
  size: number;
}

/** Reads every image of the store (images whose blobs vanished meanwhile are skipped). */
export function listImages(store: Store): ImageRecord[] {
  const byId = new Map<Digest, ImageRecord>();
  const byManifest = new Map<Digest, ImageRecord | null>();
  for (const desc of store.index.read()) {
    let record = byManifest.get(desc.digest);
    if (record === undefined) {
      record = readRecord(store, desc) ?? null;
      if (record !== null) {
        const same = byId.get(record.id);
        if (same !== undefined) {
          same.manifests.push(desc.digest);
          record = same;
        } else {
          byId.set(record.id, record);
        }
      }
      byManifest.set(desc.digest, record);
    }
    if (record !== null) addNames(record, desc);
  }
  return [...byId.values()];
}

/** What `images` prints of an image: its ID, names, creation time and size. */
export interface ImageSummary {
  /** The image ID: the config's digest. */
  id: Digest;
  manifestDigest: Digest;
  names: string[];
  repoDigests: string[];
  /** The config's `created`. */
  created: string | undefined;
  /** Sum of its layers' uncompressed sizes. */
  size: number;
}

/** A summary's part that depends only on the manifest's content, kept per manifest digest. */
interface CachedSummary {
  id: Digest;
  created?: string;
  size: number;
}

/**
 * Where {@linkcode listImageSummaries} keeps what it read of each manifest
 * (derived data: a manifest digest fixes its config, and so the ID, time and
 * layers; deleting the file costs one slower listing).
 */
const SUMMARIES = "image-summaries.json";

/**
 * Every image of the store as `images` lists it. A manifest seen before
 * costs no blob read, hash or parse: its ID, time and size come from
 * {@linkcode SUMMARIES}, which this updates (best effort: a read-only root
 * only makes the listing slower).
 */
export function listImageSummaries(store: Store): ImageSummary[] {
  const path = `${store.root}/${SUMMARIES}`;
  const cached = readSummaries(path);
  const kept: Record<string, CachedSummary> = {};
  let changed = false;
  const byId = new Map<Digest, ImageSummary>();
  const entries = store.index.read();
  for (const desc of entries) {
    let part = kept[desc.digest] ?? cached[desc.digest];
    if (part === undefined) {
      const record = readRecord(store, desc);
      if (record === undefined) continue;
      part = { id: record.id, size: record.size };
      if (record.config.created !== undefined) part.created = record.config.created;
      // A layer not extracted yet counts 0 bytes now: such a size is not kept.
      if (record.chainIds.every((c) => store.layers.info(c) !== undefined)) changed = true;
      else {
        addNames(summaryOf(byId, desc, part), desc);
        continue;
      }
    }
    kept[desc.digest] = part;
    addNames(summaryOf(byId, desc, part), desc);
  }
  if (changed || Object.keys(cached).some((digest) => kept[digest] === undefined)) {
    try {
      writeFileAtomic(path, JSON.stringify(kept), store.tmpDir);
    } catch {
      // a read-only root: the next listing reads the blobs again
    }
  }
  return [...byId.values()];
}

function summaryOf(
  byId: Map<Digest, ImageSummary>,
  desc: Descriptor,
  part: CachedSummary,
): ImageSummary {
  let summary = byId.get(part.id);
  if (summary === undefined) {
    summary = {
      id: part.id,
      manifestDigest: desc.digest,
      names: [],
      repoDigests: [],
      created: part.created,
      size: part.size,
    };
    byId.set(part.id, summary);
  }
  return summary;
}

/** The kept summaries; an entry that is not one (a damaged file) is read from the blobs again. */
function readSummaries(path: string): Record<string, CachedSummary> {
  const out: Record<string, CachedSummary> = {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return out; // none yet, or unreadable: rebuilt from the blobs
  }
  if (typeof parsed !== "object" || parsed === null) return out;
  for (const [digest, value] of Object.entries(parsed)) {
    const v = value as Partial<CachedSummary> | null;
    if (
      typeof v?.id === "string" && /^sha256:[a-f0-9]{64}$/.test(v.id) &&
      typeof v.size === "number" && (v.created === undefined || typeof v.created === "string")
    ) {
      out[digest] = v as CachedSummary;
    }
  }
  return out;
}

/** Adds an index entry's tag and repo digests to the image it points at. */
function addNames(record: Pick<ImageRecord, "names" | "repoDigests">, desc: Descriptor): void {
  const name = desc.annotations?.[REF_NAME];
  if (name !== undefined && !record.names.includes(name)) record.names.push(name);
  for (const rd of (desc.annotations?.[REPO_DIGESTS] ?? "").split(",")) {
    if (rd !== "" && !record.repoDigests.includes(rd)) record.repoDigests.push(rd);
  }
}

function readRecord(store: Store, desc: Descriptor): ImageRecord | undefined {
  let manifest: Manifest;
  let config: ImageConfig;
  try {
    manifest = parseManifest(store.blobs.read(desc.digest));
    config = parseImageConfig(store.blobs.read(manifest.config.digest));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  const chains = chainIds(config.rootfs.diff_ids);
  let size = 0;
  for (const chain of chains) size += store.layers.info(chain)?.size ?? 0;
  return {
    id: manifest.config.digest,
    manifestDigest: desc.digest,
    manifests: [desc.digest],
    descriptor: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size },
    manifest,
    config,
    names: [],
    repoDigests: [],
    chainIds: chains,
    size,
  };
}

/** `busybox:latest` style names of an image, as `docker images` shows them. */
export function familiarTags(record: ImageRecord): string[] {
  return record.names.map((n) => familiarString(parseReference(n)));
}

/**
 * Finds an image by `NAME[:TAG]`, `NAME@DIGEST`, full ID or unique ID prefix.
 * @throws {NotFoundError} `No such image: busybox:latest`
 * @throws {ConflictError} when an ID prefix matches several images
 */
export function resolveImage(store: Store, given: string, images?: ImageRecord[]): ImageRecord {
  return (images === undefined ? resolveByTag(store, given) : undefined) ??
    resolveAmong(given, images ?? listImages(store));
}

/**
 * The common case (`run busybox`) without reading every image: the tag's
 * index entry alone. Undefined when the name is no plain tag of the index.
 */
function resolveByTag(store: Store, given: string): ImageRecord | undefined {
  let name: string;
  try {
    const ref = parseReference(given);
    if (ref.digest !== undefined) return undefined;
    name = formatReference(ref);
  } catch {
    return undefined;
  }
  const entries = store.index.read();
  const tagged = entries.find((d) => d.annotations?.[REF_NAME] === name);
  if (tagged === undefined) return undefined;
  const record = readRecord(store, tagged);
  if (record === undefined) return undefined;
  for (const desc of entries) if (desc.digest === tagged.digest) addNames(record, desc);
  return record;
}

function resolveAmong(given: string, images: ImageRecord[]): ImageRecord {
  const id = /^(?:sha256:)?([a-f0-9]{1,64})$/.exec(given);
  if (id !== null && given.startsWith("sha256:") && id[1]!.length === 64) {
    const hit = images.find((i) => i.id === given);
    if (hit !== undefined) return hit;
    throw new NotFoundError(`No such image: ${given}`);
  }
  let ref: Reference | undefined;
  let refError: unknown;
  try {
    ref = parseReference(given);
  } catch (error) {
    refError = error;
  }
  if (ref !== undefined) {
    const hit = findByReference(images, ref);
    if (hit !== undefined) return hit;
  }
  if (id !== null) {
    const hits = images.filter((i) => i.id.slice(7).startsWith(id[1]!));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) {
      throw new ConflictError(`Multiple IDs found with provided prefix: ${id[1]}`);
    }
  }
  if (ref === undefined) {
    throw refError instanceof InvalidError
      ? refError
      : new InvalidError(`Invalid reference format: "${given}"`);
  }
  throw new NotFoundError(`No such image: ${familiarString(ref)}`);
}

/** The image a parsed reference names, if any. */
export function findByReference(images: ImageRecord[], ref: Reference): ImageRecord | undefined {
  if (ref.digest !== undefined) {
    const repo = formatReference({ domain: ref.domain, path: ref.path });
    return images.find((i) =>
      i.repoDigests.includes(`${repo}@${ref.digest}`) ||
      (i.manifestDigest === ref.digest && i.names.some((n) => n.startsWith(`${repo}:`)))
    );
  }
  const full = formatReference(ref);
  return images.find((i) => i.names.includes(full));
}

/**
 * Rewrites the index entries so that `name` (a full reference) tags
 * `descriptor` and nothing else; an image that loses its last tag keeps an
 * untagged entry (Docker's dangling `<none>` image).
 */
export function tagInIndex(
  manifests: Descriptor[],
  descriptor: Descriptor,
  name: string | undefined,
  extra: Record<string, string> = {},
): Descriptor[] {
  let out = manifests;
  if (name !== undefined) {
    const previous = out.find((d) => d.annotations?.[REF_NAME] === name);
    out = out.filter((d) => d.annotations?.[REF_NAME] !== name);
    if (previous !== undefined && previous.digest !== descriptor.digest) {
      if (!out.some((d) => d.digest === previous.digest)) {
        out.push({ mediaType: previous.mediaType, digest: previous.digest, size: previous.size });
      }
    }
  }
  const annotations: Record<string, string> = { ...extra };
  if (name !== undefined) annotations[REF_NAME] = name;
  const entry: Descriptor = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  if (name !== undefined) {
    out = out.filter((d) =>
      !(d.digest === descriptor.digest && d.annotations?.[REF_NAME] === undefined)
    );
    out.push(entry);
  } else if (!out.some((d) => d.digest === descriptor.digest)) {
    out.push(entry);
  }
  return out;
}

/**
 * Adds `repo@digest` names to the {@linkcode REPO_DIGESTS} annotation of the
 * entries of `manifest`, replacing an older digest of the same repository
 * (each repository has one current digest for an image, as in Docker).
 */
export function addRepoDigests(
  manifests: Descriptor[],
  manifest: Digest,
  repoDigests: readonly string[],
): Descriptor[] {
  if (repoDigests.length === 0) return manifests;
  const repos = new Set(repoDigests.map((rd) => rd.slice(0, rd.indexOf("@"))));
  return manifests.map((d) => {
    if (d.digest !== manifest) return d;
    const old = (d.annotations?.[REPO_DIGESTS] ?? "").split(",")
      .filter((rd) => rd !== "" && !repos.has(rd.slice(0, rd.indexOf("@"))));
    return {
      ...d,
      annotations: { ...d.annotations, [REPO_DIGESTS]: [...old, ...repoDigests].join(",") },
    };
  });
}
