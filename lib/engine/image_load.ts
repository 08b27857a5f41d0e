/**
 * `berth load`: a docker-archive (`docker save`, with `manifest.json`) or an
 * OCI image layout archive (skopeo, umoci, buildah, `save --format oci`)
 * becomes images in the store. Members are staged in `tmp/` and hashed as they
 * stream; every blob is checked against its digest and every layer against
 * the config's diff IDs before anything becomes visible.
 *
 * @module
 */
import { applyLayer, readArchive, uncompressedDigest } from "../archive/mod.ts";
import { chainIds, type Digest, verifyDigest } from "../digest.ts";
import { InvalidError } from "../errors.ts";
import {
  currentPlatform,
  type Descriptor,
  formatReference,
  type ImageConfig,
  isIndexType,
  type LayerCompression,
  parseImageConfig,
  parseIndex,
  parseManifest,
  parseManifestOrIndex,
  parseReference,
  type Reference,
  selectPlatform,
} from "../image/mod.ts";
import {
  BlobWriter,
  REF_NAME,
  type StagedBlob,
  type StagedLayer,
  type Store,
  tempPath,
} from "../store/mod.ts";
import {
  commitImage,
  discardStaged,
  layerMediaType,
  type StagedImageLayer,
} from "./image_commit.ts";
import { listImages, tagInIndex } from "./image_records.ts";

/** One image the archive held. */
export interface LoadedImage {
  id: Digest;
  /** Familiar-form tags it was loaded under (may be empty). */
  names: Reference[];
}

/** Options for {@linkcode loadImages}. */
export interface LoadOptions {
  /** Bytes of the archive read so far. */
  onProgress?: (bytes: number) => void;
}

type Members = Map<string, StagedBlob>;

/**
 * Loads every image of an archive.
 * @throws {InvalidError} for an archive that is neither format, or malformed
 * @throws {DigestMismatchError} when a blob or layer does not match its digest
 */
export async function loadImages(
  store: Store,
  source: ReadableStream<Uint8Array>,
  options: LoadOptions = {},
): Promise<LoadedImage[]> {
  const members: Members = new Map();
  try {
    await stageMembers(store, source, members, options.onProgress);
    if (members.has("manifest.json")) return await loadDockerArchive(store, members);
    if (members.has("index.json")) return await loadOciArchive(store, members);
    throw new InvalidError(
      "Invalid archive: it has neither manifest.json (docker-archive) nor index.json (OCI layout)",
    );
  } finally {
    for (const staged of members.values()) store.blobs.discard(staged);
  }
}

async function stageMembers(
  store: Store,
  source: ReadableStream<Uint8Array>,
  members: Members,
  onProgress?: (bytes: number) => void,
): Promise<void> {
  let bytes = 0;
  const counted = source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        onProgress?.(bytes);
        controller.enqueue(chunk);
      },
    }),
  );
  const links: [string, string][] = [];
  await readArchive(counted, async (entry) => {
    if (entry.type === "symlink" || entry.type === "link") {
      if (entry.linkname !== undefined) links.push([entry.name, entry.linkname]);
      await entry.body.cancel();
      return;
    }
    if (entry.type !== "file") {
      await entry.body.cancel();
      return;
    }
    const writer = new BlobWriter(store.tmpDir);
    try {
      for await (const chunk of entry.body) writer.write(chunk);
    } catch (error) {
      writer.abort();
      throw error;
    }
    const previous = members.get(entry.name);
    if (previous !== undefined) store.blobs.discard(previous);
    members.set(entry.name, writer.finish());
  });
  for (const [name, target] of links) {
    const resolved = resolveLink(name, target);
    const staged = members.get(resolved);
    if (staged !== undefined) members.set(name, staged);
  }
}

/** Old `docker save` linked duplicate layers: `a/layer.tar -> ../b/layer.tar`. */
function resolveLink(name: string, target: string): string {
  const parts = target.startsWith("/") ? [] : name.split("/").slice(0, -1);
  for (const part of target.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join("/");
}

function memberBytes(
  members: Members,
  name: string,
  what: string,
): { bytes: Uint8Array; staged: StagedBlob } {
  const staged = members.get(normalise(name));
  if (staged === undefined) throw new InvalidError(`Invalid archive: ${what} "${name}" is missing`);
  return { bytes: Deno.readFileSync(staged.path), staged };
}

function normalise(name: string): string {
  return name.replace(/^\.?\/+/, "");
}

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

function parseDockerManifest(bytes: Uint8Array): DockerManifestEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new InvalidError("Invalid archive: manifest.json is not JSON", { cause: error });
  }
  if (!Array.isArray(value)) {
    throw new InvalidError('Invalid archive: "manifest.json" is not a list');
  }
  return value.map((item: unknown, i) => {
    const entry = item as Partial<DockerManifestEntry> | null;
    if (entry === null || typeof entry !== "object" || typeof entry.Config !== "string") {
      throw new InvalidError(`Invalid archive: manifest.json "[${i}].Config" is missing`);
    }
    if (!Array.isArray(entry.Layers) || !entry.Layers.every((l) => typeof l === "string")) {
      throw new InvalidError(
        `Invalid archive: manifest.json "[${i}].Layers" is not a list of paths`,
      );
    }
    const tags = entry.RepoTags ?? null;
    if (tags !== null && (!Array.isArray(tags) || !tags.every((t) => typeof t === "string"))) {
      throw new InvalidError(`Invalid archive: manifest.json "[${i}].RepoTags" is not a list`);
    }
    return { Config: entry.Config, RepoTags: tags, Layers: entry.Layers };
  });
}

async function loadDockerArchive(store: Store, members: Members): Promise<LoadedImage[]> {
  const entries = parseDockerManifest(memberBytes(members, "manifest.json", "file").bytes);
  const loaded: LoadedImage[] = [];
  for (const entry of entries) {
    const { bytes: configBytes, staged: configStaged } = memberBytes(
      members,
      entry.Config,
      "config",
    );
    const config = parseImageConfig(configBytes);
    if (config.rootfs.diff_ids.length !== entry.Layers.length) {
      throw new InvalidError(
        `Invalid archive: "${entry.Config}" lists ${config.rootfs.diff_ids.length} layers, manifest.json ${entry.Layers.length}`,
      );
    }
    const names = (entry.RepoTags ?? []).map((t) => parseReference(t));
    const files = entry.Layers.map((layer) => {
      const staged = members.get(normalise(layer));
      if (staged === undefined) {
        throw new InvalidError(`Invalid archive: layer "${layer}" is missing`);
      }
      return staged;
    });
    loaded.push(await storeImage(store, config, configBytes, configStaged.digest, files, names));
  }
  return loaded;
}

async function loadOciArchive(store: Store, members: Members): Promise<LoadedImage[]> {
  const index = parseIndex(memberBytes(members, "index.json", "file").bytes);
  const loaded: LoadedImage[] = [];
  for (const desc of index.manifests) {
    const manifestDesc = pickManifest(members, desc);
    const manifestBytes = blobBytes(members, manifestDesc);
    const manifest = parseManifest(manifestBytes);
    const configBytes = blobBytes(members, manifest.config);
    const config = parseImageConfig(configBytes);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new InvalidError(
        `Invalid image: config lists ${config.rootfs.diff_ids.length} layers, manifest ${manifest.layers.length}`,
      );
    }
    const files = manifest.layers.map((layer) => blobMember(members, layer));
    const names = ociNames(desc);
    loaded.push(
      await storeImage(store, config, configBytes, manifest.config.digest, files, names, {
        manifestBytes,
        layerTypes: manifest.layers.map((l) => l.mediaType),
      }),
    );
  }
  return loaded;
}

/** Follows nested indexes to the manifest for this host's platform. */
function pickManifest(members: Members, desc: Descriptor): Descriptor {
  let current = desc;
  for (let depth = 0; depth < 4 && isIndexType(current.mediaType); depth++) {
    const nested = parseIndex(blobBytes(members, current));
    const chosen = selectPlatform(nested, currentPlatform());
    if (chosen === undefined) {
      throw new InvalidError(
        `Invalid archive: index "${current.digest}" has no manifest for this platform`,
      );
    }
    current = chosen;
  }
  if (parseManifestOrIndex(blobBytes(members, current)).kind !== "manifest") {
    throw new InvalidError(`Invalid archive: "${current.digest}" is not an image manifest`);
  }
  return current;
}

function ociNames(desc: Descriptor): Reference[] {
  const candidates = [desc.annotations?.["io.containerd.image.name"], desc.annotations?.[REF_NAME]];
  for (const name of candidates) {
    if (name === undefined || !/[:/]/.test(name)) continue;
    try {
      return [parseReference(name)];
    } catch {
      // a bare tag such as "latest" names no repository
    }
  }
  return [];
}

/**
 * The staged member for a descriptor, checked against its digest and size
 * (a manifest keeps the sizes it was loaded with, and clients pulling it
 * refuse a blob of another size).
 */
function blobMember(members: Members, desc: Pick<Descriptor, "digest" | "size">): StagedBlob {
  const name = `blobs/sha256/${desc.digest.slice(7)}`;
  const staged = members.get(name);
  if (staged === undefined) {
    throw new InvalidError(`Invalid archive: blob "${desc.digest}" is missing`);
  }
  verifyDigest(desc.digest, staged.digest, `blob "${name}"`);
  if (staged.size !== desc.size) {
    throw new InvalidError(
      `Invalid archive: blob "${desc.digest}" is ${staged.size} bytes, its descriptor says ${desc.size}`,
    );
  }
  return staged;
}

function blobBytes(members: Members, desc: Pick<Descriptor, "digest" | "size">): Uint8Array {
  return Deno.readFileSync(blobMember(members, desc).path);
}

/**
 * Extracts the layers the store lacks and hashes the others, checking every
 * one against the config's diff ID (what the store holds under that diff ID
 * says nothing of what this archive holds), then commits the image, or only
 * its tags when the store already has an image with this config.
 */
async function storeImage(
  store: Store,
  config: ImageConfig,
  configBytes: Uint8Array,
  id: Digest,
  files: StagedBlob[],
  names: Reference[],
  oci: { manifestBytes: Uint8Array; layerTypes: string[] } | undefined = undefined,
): Promise<LoadedImage> {
  const existing = listImages(store).find((i) => i.id === id);
  if (existing !== undefined) {
    for (const [i, file] of files.entries()) {
      await checkDiffId(file, config.rootfs.diff_ids[i]!, i);
    }
    await store.locked(() =>
      store.index.update((manifests) => {
        let out = manifests;
        for (const name of names) out = tagInIndex(out, existing.descriptor, formatReference(name));
        return out;
      })
    );
    return { id, names };
  }
  const chains = chainIds(config.rootfs.diff_ids);
  const layers: StagedImageLayer[] = [];
  let pending: StagedLayer | undefined;
  try {
    for (const [i, file] of files.entries()) {
      const diffId = config.rootfs.diff_ids[i]!;
      const chainId = chains[i]!;
      let info = store.layers.info(chainId);
      let compression: LayerCompression;
      let tree: StagedLayer | undefined;
      if (info === undefined) {
        pending = tree = store.layers.stage();
        const applied = await applyLayer((await Deno.open(file.path)).readable, tree.diff);
        verifyDigest(diffId, applied.diffId, `layer ${i + 1} (diff ID)`);
        compression = applied.compression;
        info = { chainId, diffId, size: applied.size };
      } else {
        compression = await checkDiffId(file, diffId, i);
      }
      const blob = store.blobs.has(file.digest)
        ? undefined
        : { ...file, path: linkCopy(store, file) };
      layers.push({
        descriptor: {
          mediaType: oci?.layerTypes[i] ?? layerMediaType(compression),
          digest: file.digest,
          size: file.size,
        },
        info,
        ...(blob ? { blob } : {}),
        ...(tree ? { tree } : {}),
      });
      pending = undefined;
    }
  } catch (error) {
    if (pending !== undefined) store.layers.discard(pending);
    discardStaged(store, layers);
    throw error;
  }
  const committed = await commitImage(store, config, layers, names, {
    configBytes,
    ...(oci ? { manifestBytes: oci.manifestBytes } : {}),
  });
  return { id: committed.id, names };
}

/**
 * A second name for a staged member, owned by the image commit, so that the
 * members map can drop its own name without touching the layer blob.
 */
function linkCopy(store: Store, file: StagedBlob): string {
  const path = tempPath(store.tmpDir, ".blob");
  Deno.linkSync(file.path, path);
  return path;
}

/**
 * Hashes a layer the store already has extracted, without extracting it again.
 * @throws {DigestMismatchError} when its content is not that diff ID's
 */
async function checkDiffId(file: StagedBlob, diffId: Digest, i: number): Promise<LayerCompression> {
  const hashed = await uncompressedDigest((await Deno.open(file.path)).readable);
  verifyDigest(diffId, hashed.digest, `layer ${i + 1} (diff ID)`);
  return hashed.compression;
}
