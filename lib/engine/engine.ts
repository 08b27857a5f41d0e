/**
 * The engine's image side: the {@linkcode Engine} over one store root
 * (listing, lookup, inspect, tag, remove, and import/load/save/pull/push,
 * which load the tar, hashing and registry code on first use). Its static
 * imports are the records and the store only, so `images` and `ps` load no
 * runtime, monitor or registry module.
 *
 * @module
 */
import { type Digest, loadNativeSha256 } from "../digest.ts";
import { type OpenOptions, openStore, type Store, treeSize } from "../store/mod.ts";
import { ContainerStore } from "./container_record.ts";
import { imageEvents, recordEvent } from "./events.ts";
import {
  type ImageRecord,
  type ImageSummary,
  listImages,
  listImageSummaries,
  resolveImage,
  tagInIndex,
} from "./image_records.ts";
import { familiarName, familiarString, formatReference, type Reference } from "../image/mod.ts";
import type { ImportOptions } from "./image_import.ts";
import type { LoadedImage, LoadOptions } from "./image_load.ts";
import type { SaveFormat } from "./image_save.ts";
import type { PruneOptions, PruneReport, RemoveEvent, RemoveOptions } from "./image_remove.ts";
import { type HistoryRow, imageHistory, inspectImage } from "./image_inspect.ts";
import type { CommittedImage } from "./image_commit.ts";
import type { PullOptions, PullResult } from "./image_pull.ts";
import type { PushOptions, PushResult } from "./image_push.ts";

/** Disk usage by kind, for `system df`. */
export interface DiskUsage {
  images: UsageRow;
  containers: UsageRow;
}

/** One row of `system df`: counts and bytes. */
export interface UsageRow {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** The engine over one store root. */
export class Engine {
  readonly store: Store;

  private constructor(store: Store) {
    this.store = store;
  }

  /** Opens the store at `root`, laying it out on first use. */
  static open(root: string, options?: OpenOptions): Engine {
    return new Engine(openStore(root, options));
  }

  listImages(): ImageRecord[] {
    return listImages(this.store);
  }

  /** What `images` lists, without reading the blobs of images listed before. */
  listImageSummaries(): ImageSummary[] {
    return listImageSummaries(this.store);
  }

  /** @throws {NotFoundError} */
  image(nameOrId: string): ImageRecord {
    return resolveImage(this.store, nameOrId);
  }

  async importImage(
    source: ReadableStream<Uint8Array>,
    options?: ImportOptions,
  ): Promise<CommittedImage> {
    const [{ importImage }] = await Promise.all([import("./image_import.ts"), loadNativeSha256()]);
    const image = await importImage(this.store, source, options);
    recordEvent(this.store.root, "image", "import", image.id);
    return image;
  }

  async loadImages(
    source: ReadableStream<Uint8Array>,
    options?: LoadOptions,
  ): Promise<LoadedImage[]> {
    const [{ loadImages }] = await Promise.all([import("./image_load.ts"), loadNativeSha256()]);
    const images = await loadImages(this.store, source, options);
    for (const i of images) {
      recordEvent(this.store.root, "image", "load", i.id, {
        name: i.names.map(familiarString)[0] ?? i.id,
      });
    }
    return images;
  }

  /** @throws {NotFoundError} when a name does not resolve (before anything is written) */
  async saveImages(
    names: readonly string[],
    format?: SaveFormat,
  ): Promise<ReadableStream<Uint8Array>> {
    const [{ saveImages }] = await Promise.all([import("./image_save.ts"), loadNativeSha256()]);
    return saveImages(this.store, names, format);
  }

  /** Tags `source` as `target` (moving the tag if another image had it). */
  async tagImage(source: string, target: Reference): Promise<void> {
    const id = await this.store.locked(() => {
      const image = resolveImage(this.store, source);
      this.store.index.update((manifests) =>
        tagInIndex(manifests, image.descriptor, formatReference(target))
      );
      return image.id;
    });
    recordEvent(this.store.root, "image", "tag", id, { name: familiarString(target) });
  }

  async removeImage(nameOrId: string, options?: RemoveOptions): Promise<RemoveEvent[]> {
    const { removeImage } = await import("./image_remove.ts");
    const id = this.#imageId(nameOrId);
    const events = await removeImage(this.store, nameOrId, { usedBy: this.#usedBy(), ...options });
    imageEvents(this.store.root, events, id);
    return events;
  }

  async pruneImages(options?: PruneOptions): Promise<PruneReport> {
    const { pruneImages } = await import("./image_remove.ts");
    const report = await pruneImages(this.store, { usedBy: this.#usedBy(), ...options });
    imageEvents(this.store.root, report.events);
    return report;
  }

  /** An image's ID, or undefined when the name does not resolve (for its events). */
  #imageId(nameOrId: string): string | undefined {
    try {
      return resolveImage(this.store, nameOrId).id;
    } catch {
      return undefined;
    }
  }

  /** Which container (if any) uses an image: such images are never deleted. */
  #usedBy(): (id: string) => string | undefined {
    const containers = new ContainerStore(this.store.root, this.store.tmpDir).list();
    return (id) => containers.find((c) => c.Image === id)?.Id;
  }

  /** Pulls an image from its registry (image_pull.ts; loaded on first use with the tar code). */
  async pullImage(ref: Reference, options?: PullOptions): Promise<PullResult> {
    const [{ pullImage }] = await Promise.all([import("./image_pull.ts"), loadNativeSha256()]);
    const result = await pullImage(this.store, ref, options);
    recordEvent(this.store.root, "image", "pull", familiarString(result.reference), {
      name: familiarName(result.reference),
    });
    return result;
  }

  /** Pushes a tagged image to its registry (image_push.ts; loaded on first use). */
  async pushImage(ref: Reference, options?: PushOptions): Promise<PushResult> {
    const [{ pushImage }] = await Promise.all([import("./image_push.ts"), loadNativeSha256()]);
    return pushImage(this.store, ref, options);
  }

  /** The tags of `ref`'s repository that the store has, for `push --all-tags`. */
  async localTags(ref: Reference): Promise<Reference[]> {
    const { localTags } = await import("./image_push.ts");
    return localTags(this.store, ref);
  }

  inspectImage(record: ImageRecord): Record<string, unknown> {
    return inspectImage(this.store, record);
  }

  imageHistory(record: ImageRecord): HistoryRow[] {
    return imageHistory(this.store, record);
  }

  /** Disk usage: unique layers count once however many images share them. */
  diskUsage(): DiskUsage {
    const images = this.listImages();
    const records = new ContainerStore(this.store.root, this.store.tmpDir);
    const containers = records.list();
    const used = images.filter((i) => containers.some((c) => c.Image === i.id));
    const layerSize = (chains: Iterable<Digest>) => {
      let size = 0;
      for (const chain of new Set(chains)) size += this.store.layers.info(chain)?.size ?? 0;
      return size;
    };
    const size = layerSize(images.flatMap((i) => i.chainIds));
    const inUse = layerSize(used.flatMap((i) => i.chainIds));
    const upper = containers.map((c) => ({
      running: c.State.Running,
      size: treeSize(`${records.path(c.Id)}/upper`),
    }));
    const upperTotal = upper.reduce((sum, c) => sum + c.size, 0);
    return {
      images: { total: images.length, active: used.length, size, reclaimable: size - inUse },
      containers: {
        total: containers.length,
        active: upper.filter((c) => c.running).length,
        size: upperTotal,
        reclaimable: upper.filter((c) => !c.running).reduce((sum, c) => sum + c.size, 0),
      },
    };
  }
}
