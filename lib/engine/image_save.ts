/**
 * `berth save`: images to a docker-archive (what `docker load` and skopeo's
 * `docker-archive:` read: `manifest.json`, `<config>.json`,
 * `<diff-id>/layer.tar` with uncompressed layers) or, with `--format oci`, an
 * OCI image layout archive with the blobs exactly as stored.
 *
 * @module
 */
import { decompress, packFiles } from "../archive/mod.ts";
import type { Digest } from "../digest.ts";
import { NotFoundError } from "../errors.ts";
import {
  encodeJson,
  familiarString,
  formatReference,
  layerCompression,
  MEDIA_TYPES,
  parseReference,
  type Reference,
} from "../image/mod.ts";
import { REF_NAME, type Store } from "../store/mod.ts";
import { findByReference, type ImageRecord, listImages, resolveImage } from "./image_records.ts";

/** Archive formats `save` writes. */
export type SaveFormat = "docker" | "oci";

interface Selected {
  image: ImageRecord;
  /** Full references to record for it. */
  names: string[];
}

/** Resolves `save`'s arguments: a name saves that tag, an ID saves the image untagged. */
function select(store: Store, given: readonly string[]): Selected[] {
  const images = listImages(store);
  const out: Selected[] = [];
  for (const arg of given) {
    const image = resolveImage(store, arg, images);
    let name: string | undefined;
    try {
      const ref = parseReference(arg);
      if (ref.digest === undefined && findByReference(images, ref) === image) {
        name = formatReference(ref);
      }
    } catch {
      // an ID
    }
    const known = out.find((s) => s.image.id === image.id);
    if (known === undefined) out.push({ image, names: name === undefined ? [] : [name] });
    else if (name !== undefined && !known.names.includes(name)) known.names.push(name);
  }
  return out;
}

type Entry = { name: string; size: number; body: ReadableStream<Uint8Array> | Uint8Array };

/**
 * Streams an archive of the given images.
 * @throws {NotFoundError} when a name does not resolve (before anything is written)
 */
export function saveImages(
  store: Store,
  given: readonly string[],
  format: SaveFormat = "docker",
): ReadableStream<Uint8Array> {
  const selected = select(store, given);
  return packFiles(format === "oci" ? ociEntries(store, selected) : dockerEntries(store, selected));
}

async function* dockerEntries(store: Store, selected: Selected[]): AsyncGenerator<Entry> {
  const manifest = selected.map(({ image, names }) => ({
    Config: `${image.id.slice(7)}.json`,
    RepoTags: names.length === 0 ? null : names.map((n) => familiarString(parseReference(n))),
    Layers: image.config.rootfs.diff_ids.map((d) => `${d.slice(7)}/layer.tar`),
  }));
  const written = new Set<string>();
  for (const { image } of selected) {
    const configBytes = store.blobs.read(image.id);
    yield { name: `${image.id.slice(7)}.json`, size: configBytes.length, body: configBytes };
    for (const [i, diffId] of image.config.rootfs.diff_ids.entries()) {
      if (written.has(diffId)) continue;
      written.add(diffId);
      const layer = image.manifest.layers[i]!;
      const info = store.layers.info(image.chainIds[i]!);
      if (info === undefined) {
        throw new NotFoundError(`Layer "${diffId}" of image "${image.id}" is not in the store`);
      }
      const raw = (await store.blobs.open(layer.digest)).readable;
      const body = layerCompression(layer.mediaType) === "none"
        ? raw
        : (await decompress(raw)).stream;
      yield { name: `${diffId.slice(7)}/layer.tar`, size: info.size, body };
    }
  }
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  yield { name: "manifest.json", size: bytes.length, body: bytes };
  const repositories = repositoriesFile(selected);
  yield { name: "repositories", size: repositories.length, body: repositories };
}

/** The legacy `repositories` file: repository -> tag -> top layer's legacy ID (here: its chain ID). */
function repositoriesFile(selected: Selected[]): Uint8Array {
  const repos: Record<string, Record<string, string>> = {};
  for (const { image, names } of selected) {
    const top = image.chainIds[image.chainIds.length - 1];
    if (top === undefined) continue;
    for (const name of names) {
      const ref: Reference = parseReference(name);
      const familiar = familiarString({ domain: ref.domain, path: ref.path });
      (repos[familiar] ??= {})[ref.tag ?? "latest"] = top.slice(7);
    }
  }
  return new TextEncoder().encode(JSON.stringify(repos));
}

async function* ociEntries(store: Store, selected: Selected[]): AsyncGenerator<Entry> {
  const layout = encodeJson({ imageLayoutVersion: "1.0.0" });
  yield { name: "oci-layout", size: layout.length, body: layout };
  const manifests = selected.flatMap(({ image, names }) =>
    (names.length === 0 ? [undefined] : names).map((name) => ({
      ...image.descriptor,
      ...(name === undefined ? {} : {
        annotations: {
          "io.containerd.image.name": name,
          [REF_NAME]: parseReference(name).tag ?? "latest",
        },
      }),
    }))
  );
  const index = encodeJson({ schemaVersion: 2, mediaType: MEDIA_TYPES.OCI_INDEX, manifests });
  yield { name: "index.json", size: index.length, body: index };
  const written = new Set<Digest>();
  for (const { image } of selected) {
    const digests = [image.manifestDigest, image.id, ...image.manifest.layers.map((l) => l.digest)];
    for (const digest of digests) {
      if (written.has(digest)) continue;
      written.add(digest);
      const size = store.blobs.stat(digest);
      if (size === undefined) throw new NotFoundError(`Blob "${digest}" is not in the store`);
      yield {
        name: `blobs/sha256/${digest.slice(7)}`,
        size,
        body: (await store.blobs.open(digest)).readable,
      };
    }
  }
}
