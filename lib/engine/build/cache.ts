/**
 * The build cache: `<root>/build-cache/<key>.json`, one file per step that
 * ran, naming the state it produced (the image config, byte for byte, and
 * every layer). A step's key hashes its parent state, its instruction as
 * expanded, the build args in scope and, for COPY/ADD, its sources' digest,
 * so a hit reproduces the same config, and a rebuild the same image ID.
 * Entries are written (temp file, rename) under the store lock together
 * with the layers they name; the garbage collector keeps what they name.
 *
 * @module
 */
import { type Digest, sha256 } from "../../digest.ts";
import type { Descriptor } from "../../image/mod.ts";
import { type Store, tempPath } from "../../store/mod.ts";

/** One layer of a cached state. */
export interface CachedLayer {
  descriptor: Descriptor;
  diffId: Digest;
  chainId: Digest;
  /** Uncompressed size. */
  size: number;
}

/** What a cache file holds. */
export interface CacheEntry {
  /** The image config the step produced, as stored (JSON text). */
  config: string;
  /** Every layer of that state, bottom first. */
  layers: CachedLayer[];
  /** When the step ran. */
  created: string;
}

/** The cache directory of a store. */
export function cacheDir(store: Store): string {
  return `${store.root}/build-cache`;
}

/** The key of a step: a digest over its inputs, in order. */
export function cacheKey(parts: readonly string[]): Digest {
  return sha256(JSON.stringify(parts));
}

/** The entry for `key`, or undefined (a missing or unreadable file is a miss). */
export function readCache(store: Store, key: Digest): CacheEntry | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${cacheDir(store)}/${key.slice(7)}.json`);
  } catch {
    return undefined;
  }
  try {
    const entry = JSON.parse(text) as CacheEntry;
    if (typeof entry.config !== "string" || !Array.isArray(entry.layers)) return undefined;
    // A hit is usable only while every layer it names is still stored.
    for (const layer of entry.layers) {
      if (!store.blobs.has(layer.descriptor.digest) || !store.layers.has(layer.chainId)) {
        return undefined;
      }
    }
    return entry;
  } catch {
    return undefined;
  }
}

/** Writes an entry (temp file, rename). Call under the store lock, with its layers committed. */
export function writeCache(store: Store, key: Digest, entry: CacheEntry): void {
  const dir = cacheDir(store);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = tempPath(store.tmpDir, ".json");
  Deno.writeTextFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
  Deno.renameSync(tmp, `${dir}/${key.slice(7)}.json`);
}

/** Every entry, with its key (unreadable files are skipped). */
export function listCache(store: Store): { key: Digest; entry: CacheEntry; path: string }[] {
  const dir = cacheDir(store);
  const out: { key: Digest; entry: CacheEntry; path: string }[] = [];
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      /^[0-9a-f]{64}\.json$/.test(n)
    );
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return out;
    throw error;
  }
  for (const name of names.sort()) {
    const path = `${dir}/${name}`;
    try {
      const entry = JSON.parse(Deno.readTextFileSync(path)) as CacheEntry;
      if (typeof entry.config === "string" && Array.isArray(entry.layers)) {
        out.push({ key: `sha256:${name.slice(0, 64)}`, entry, path });
      }
    } catch {
      // unreadable: ignored here, overwritten by the next write of its key
    }
  }
  return out;
}

/** What {@linkcode pruneCache} removed. */
export interface CachePruneReport {
  /** Keys of the removed entries. */
  removed: Digest[];
}

/**
 * Removes cache entries: all with `all`, else the dangling ones (whose
 * state's top layer no image in the index has). Call under the store lock,
 * then collect garbage so their layers go too.
 * @param imageChains chain IDs of every layer of every image
 */
export function pruneCache(
  store: Store,
  all: boolean,
  imageChains: ReadonlySet<Digest>,
): CachePruneReport {
  const removed: Digest[] = [];
  for (const { key, entry, path } of listCache(store)) {
    const top = entry.layers.at(-1)?.chainId;
    if (!all && top !== undefined && imageChains.has(top)) continue;
    Deno.removeSync(path);
    removed.push(key);
  }
  return { removed };
}
