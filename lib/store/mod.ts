/**
 * berth's on-disk image store: an OCI image layout (`oci-layout`,
 * `index.json`, `blobs/sha256/`) that skopeo and umoci read directly, plus
 * extracted layers shared by chain ID and a `tmp/` for staged writes.
 *
 * @example
 * ```ts
 * import { openStore } from "./lib/store/mod.ts";
 * const store = openStore("/var/lib/berth");
 * const tags = store.index.read().map((d) => d.annotations?.["org.opencontainers.image.ref.name"]);
 * ```
 * @module
 */
import { BlobStore } from "./blob_store.ts";
import { IndexStore } from "./index_store.ts";
import { LayerStore } from "./layer_store.ts";
import { withLock } from "./lock.ts";
import { clearStale, tempPath, writeFileAtomic } from "./tmp.ts";

export { BlobStore, BlobWriter, type StagedBlob } from "./blob_store.ts";
export { IndexStore, REF_NAME } from "./index_store.ts";
export { type LayerInfo, LayerStore, type StagedLayer } from "./layer_store.ts";
export { clearStale, makeTempDir, tempPath, writeFileAtomic } from "./tmp.ts";

/** An opened store root. */
export interface Store {
  root: string;
  tmpDir: string;
  blobs: BlobStore;
  layers: LayerStore;
  index: IndexStore;
  /** Runs `fn` under the store's cross-process lock. */
  locked<T>(fn: () => Promise<T> | T): Promise<T>;
}

/** How {@linkcode openStore} opens a root. */
export interface OpenOptions {
  /**
   * The caller only reads (`ps`, `images`, `inspect`): a root already laid
   * out is opened as it is, and `tmp/`'s leftovers stay for the next writer
   * to remove, which spares a read the mkdir, chmod and readdir calls.
   * @default false
   */
  reading?: boolean;
}

/**
 * Opens (and on first use lays out) the store at `root`. Leftovers of killed
 * processes in `tmp/` are removed.
 */
export function openStore(root: string, options: OpenOptions = {}): Store {
  const tmpDir = `${root}/tmp`;
  const index = new IndexStore(`${root}/index.json`, tmpDir);
  if (!options.reading || !pathExists(`${root}/oci-layout`)) layOut(root, tmpDir, index);
  return {
    root,
    tmpDir,
    blobs: new BlobStore(`${root}/blobs/sha256`, tmpDir),
    layers: new LayerStore(`${root}/layers`, tmpDir),
    index,
    locked: (fn) => withLock(`${root}/lock`, fn),
  };
}

/** Makes the layout's directories and files where they are missing, and clears `tmp/`. */
function layOut(root: string, tmpDir: string, index: IndexStore): void {
  for (const dir of [root, `${root}/blobs/sha256`, `${root}/layers`, tmpDir]) {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  Deno.chmodSync(root, 0o711);
  if (!pathExists(`${root}/oci-layout`)) {
    writeFileAtomic(`${root}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}', tmpDir);
  }
  if (!pathExists(index.path)) {
    createIfAbsent(index.path, '{"schemaVersion":2,"manifests":[]}\n', tmpDir);
  }
  clearStale(tmpDir);
}

/** Creates `path` with `text` unless it exists, atomically (link(2) fails on EEXIST). */
function createIfAbsent(path: string, text: string, tmpDir: string): void {
  const tmp = tempPath(tmpDir);
  Deno.writeTextFileSync(tmp, text, { mode: 0o644 });
  try {
    Deno.linkSync(tmp, path);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  } finally {
    Deno.removeSync(tmp);
  }
}

/**
 * Sum of the sizes of the regular files under `dir`, symlinks not followed
 * (a container's writable layer as Docker's SizeRw, a volume's usage).
 */
export function treeSize(dir: string): number {
  let total = 0;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) total += treeSize(path);
    else if (entry.isFile) {
      try {
        total += Deno.lstatSync(path).size;
      } catch {
        // removed meanwhile
      }
    }
  }
  return total;
}

/** Whether something (a dangling symlink too) is at `path`. */
export function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
