/**
 * `rmi` and `image prune`: untag, and delete an image once nothing names it,
 * with Docker's rules for when a removal must be forced.
 *
 * @module
 */
import type { Digest } from "../digest.ts";
import { ConflictError } from "../errors.ts";
import { familiarString, formatReference, parseReference, type Reference } from "../image/mod.ts";
import { REF_NAME, type Store } from "../store/mod.ts";
import { collectGarbage } from "./image_gc.ts";
import {
  findByReference,
  type ImageRecord,
  listImages,
  resolveImage,
  tagInIndex,
} from "./image_records.ts";

/** One line of `rmi` output: `Untagged: busybox:latest` or `Deleted: sha256:...`. */
export interface RemoveEvent {
  action: "Untagged" | "Deleted";
  value: string;
}

/** Options for {@linkcode removeImage}. */
export interface RemoveOptions {
  /** Untag every name and delete, even when names span repositories. @default false */
  force?: boolean;
  /** The ID of a container that uses image `id`, if any (such an image is never deleted). */
  usedBy?: (id: string) => string | undefined;
}

/**
 * Removes `given` (a name or an ID) as `docker rmi` does.
 * @throws {NotFoundError} when no image matches
 * @throws {ConflictError} when an ID names an image tagged in several repositories, without force
 */
export function removeImage(
  store: Store,
  given: string,
  options: RemoveOptions = {},
): Promise<RemoveEvent[]> {
  return store.locked(() => {
    const images = listImages(store);
    const image = resolveImage(store, given, images);
    const events: RemoveEvent[] = [];
    const ref = tryReference(given);
    const byName = ref !== undefined && findByReference(images, ref) === image;
    let untag: string[];
    if (byName && ref.digest === undefined) {
      untag = [formatReference(ref)];
    } else if (byName) {
      const repo = formatReference({ domain: ref.domain, path: ref.path });
      untag = image.names.filter((n) => n.startsWith(`${repo}:`));
    } else {
      const repos = new Set(image.names.map((n) => n.slice(0, n.lastIndexOf(":"))));
      if (repos.size > 1 && !options.force) {
        throw new ConflictError(
          `Conflict: unable to delete ${
            image.id.slice(7, 19)
          } (must be forced) - image is referenced in multiple repositories`,
        );
      }
      untag = [...image.names];
    }
    for (const name of untag) {
      events.push({ action: "Untagged", value: familiarString(parseReference(name)) });
    }
    const remaining = image.names.filter((n) => !untag.includes(n));
    const container = remaining.length === 0 ? options.usedBy?.(image.id) : undefined;
    if (container !== undefined && !options.force) {
      const what = byName ? `repository reference "${given}"` : image.id.slice(7, 19);
      throw new ConflictError(
        `Conflict: unable to remove ${what} (must force) - container ${
          container.slice(0, 12)
        } is using its referenced image ${image.id.slice(7, 19)}`,
      );
    }
    if (remaining.length > 0 || container !== undefined) {
      // With force, an image a container uses loses its names but stays (dangling), as in Docker.
      store.index.update((manifests) => {
        const kept = manifests.filter((d) =>
          !(sameImage(image, d.digest) && untag.includes(d.annotations?.[REF_NAME] ?? ""))
        );
        return tagInIndex(kept, image.descriptor, undefined);
      });
      return events;
    }
    events.push(...deleteImages(store, [image]).events);
    return events;
  });
}

/** The result of {@linkcode pruneImages}. */
export interface PruneReport {
  events: RemoveEvent[];
  reclaimed: number;
}

/** What `image prune` removes: dangling images, or with `all` every unused one, that `filter` passes. */
export interface PruneOptions {
  all?: boolean;
  /** `--filter until=`/`label=`: false keeps the image. */
  filter?: (image: ImageRecord) => boolean;
}

/**
 * Removes dangling images (no tag), or with `all` every image; images that
 * containers use are kept.
 */
export function pruneImages(
  store: Store,
  options: PruneOptions & { usedBy?: (id: string) => string | undefined } = {},
): Promise<PruneReport> {
  return store.locked(() => {
    const victims = listImages(store).filter((i) =>
      (options.all || i.names.length === 0) && options.usedBy?.(i.id) === undefined &&
      (options.filter?.(i) ?? true)
    );
    const events: RemoveEvent[] = [];
    for (const image of victims) {
      for (const name of image.names) {
        events.push({ action: "Untagged", value: familiarString(parseReference(name)) });
      }
    }
    const result = deleteImages(store, victims);
    return { events: [...events, ...result.events], reclaimed: result.reclaimed };
  });
}

/** Drops images from the index, then collects what nothing else uses. Under the lock. */
function deleteImages(
  store: Store,
  images: ImageRecord[],
): { events: RemoveEvent[]; reclaimed: number } {
  if (images.length === 0) return { events: [], reclaimed: 0 };
  const manifests = new Set<Digest>(images.flatMap((i) => i.manifests));
  store.index.update((all) => all.filter((d) => !manifests.has(d.digest)));
  const gc = collectGarbage(store);
  const events: RemoveEvent[] = images.map((i) => ({ action: "Deleted", value: i.id }));
  for (const chain of gc.layers) events.push({ action: "Deleted", value: chain });
  return { events, reclaimed: gc.reclaimed };
}

function sameImage(image: ImageRecord, manifestDigest: Digest): boolean {
  return image.manifests.includes(manifestDigest);
}

function tryReference(given: string): Reference | undefined {
  try {
    return parseReference(given);
  } catch {
    return undefined;
  }
}
