/**
 * What berth remembers about where blobs came from and went to, as Docker's
 * v2metadata does: the repositories (`registry/path`) known to hold each blob,
 * so a push can mount a blob from another repository of the same registry
 * instead of uploading it, and the gzip blob made from each uncompressed
 * layer blob, so a re-push does not compress again. Kept in
 * `<root>/distribution.json`, rewritten atomically under the store lock.
 *
 * @module
 */
import type { Digest } from "../digest.ts";
import { type Store, writeFileAtomic } from "../store/mod.ts";

interface MetaFile {
  /** Repositories (`localhost:5000/busybox`) that hold each blob, newest first. */
  sources: Record<string, string[]>;
  /** Uncompressed layer blob → the gzip blob made from it. */
  compressed: Record<string, Digest>;
}

/** Repositories remembered per blob. */
const MAX_SOURCES = 5;

/** Changes to record in one write. */
export interface MetaUpdate {
  /** `[blob, "registry/path"]` pairs: the repository holds the blob. */
  sources?: [Digest, string][];
  /** `[uncompressed, gzip]` pairs. */
  compressed?: [Digest, Digest][];
}

/** `<root>/distribution.json`. */
export class DistributionMeta {
  readonly path: string;
  #store: Store;

  constructor(store: Store) {
    this.#store = store;
    this.path = `${store.root}/distribution.json`;
  }

  #read(): MetaFile {
    try {
      const parsed = JSON.parse(Deno.readTextFileSync(this.path)) as Partial<MetaFile>;
      return { sources: parsed.sources ?? {}, compressed: parsed.compressed ?? {} };
    } catch {
      // Absent or unreadable: the metadata is only an optimisation.
      return { sources: {}, compressed: {} };
    }
  }

  /** Repositories known to hold `blob`, newest first. */
  sources(blob: Digest): string[] {
    return this.#read().sources[blob] ?? [];
  }

  /** The gzip blob made from an uncompressed one, when the store still has it. */
  compressedOf(blob: Digest): Digest | undefined {
    const gz = this.#read().compressed[blob];
    return gz !== undefined && this.#store.blobs.has(gz) ? gz : undefined;
  }

  /** Records sources and compressed variants (takes the store lock). */
  async record(update: MetaUpdate): Promise<void> {
    if ((update.sources?.length ?? 0) + (update.compressed?.length ?? 0) === 0) return;
    await this.#store.locked(() => {
      const meta = this.#read();
      for (const [blob, repo] of update.sources ?? []) {
        const list = (meta.sources[blob] ?? []).filter((r) => r !== repo);
        meta.sources[blob] = [repo, ...list].slice(0, MAX_SOURCES);
      }
      for (const [plain, gz] of update.compressed ?? []) meta.compressed[plain] = gz;
      writeFileAtomic(this.path, JSON.stringify(meta), this.#store.tmpDir);
    });
  }
}
