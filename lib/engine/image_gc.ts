/**
 * Removal of what no image needs any more: blobs not reachable from
 * `index.json` and extracted layers whose chain ID no image has. Runs under
 * the store lock, after the index has been rewritten, so a crash in between
 * only leaves unreferenced files for the next run. The build cache's entries
 * are roots too: the layers and blobs they name stay until `builder prune`.
 *
 * @module
 */
import { chainIds, type Digest } from "../digest.ts";
import { NotFoundError } from "../errors.ts";
import { parseImageConfig, parseManifestOrIndex } from "../image/mod.ts";
import type { Store } from "../store/mod.ts";
import { listCache } from "./build/cache.ts";

/** What a collection removed. */
export interface GcReport {
  blobs: Digest[];
  layers: Digest[];
  /** Uncompressed size of the removed layers (Docker's "reclaimed space"). */
  reclaimed: number;
}

/** Removes unreferenced blobs and layers. Call inside `store.locked`. */
export function collectGarbage(store: Store): GcReport {
  const blobs = new Set<Digest>();
  const chains = new Set<Digest>();
  const visit = (digest: Digest): void => {
    if (blobs.has(digest)) return;
    blobs.add(digest);
    let parsed;
    try {
      parsed = parseManifestOrIndex(store.blobs.read(digest));
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
    if (parsed.kind === "index") {
      for (const child of parsed.index.manifests) visit(child.digest);
      return;
    }
    const manifest = parsed.manifest;
    blobs.add(manifest.config.digest);
    for (const layer of manifest.layers) blobs.add(layer.digest);
    try {
      const config = parseImageConfig(store.blobs.read(manifest.config.digest));
      for (const chain of chainIds(config.rootfs.diff_ids)) chains.add(chain);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  };
  for (const desc of store.index.read()) visit(desc.digest);
  for (const { entry } of listCache(store)) {
    for (const layer of entry.layers) {
      blobs.add(layer.descriptor.digest);
      chains.add(layer.chainId);
    }
  }
  const report: GcReport = { blobs: [], layers: [], reclaimed: 0 };
  for (const chain of store.layers.list()) {
    if (chains.has(chain)) continue;
    report.reclaimed += store.layers.info(chain)?.size ?? 0;
    store.layers.remove(chain);
    report.layers.push(chain);
  }
  for (const digest of store.blobs.list()) {
    if (blobs.has(digest)) continue;
    store.blobs.remove(digest);
    report.blobs.push(digest);
  }
  return report;
}
