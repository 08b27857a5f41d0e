/**
 * Tar handling for berth: extracting image layers into overlayfs lower
 * directories (with whiteouts converted to overlayfs's format), reading and
 * writing plain archives for `berth load`/`berth save`, and sniffing and
 * undoing layer compression.
 *
 * ```ts
 * import { applyLayer } from "./lib/archive/mod.ts";
 *
 * const blob = await Deno.open("blobs/sha256/…");
 * const { diffId, size, compression } = await applyLayer(blob.readable, "layers/…/diff");
 * ```
 *
 * @module
 */
export { type AppliedLayer, applyLayer, type ApplyLayerOptions } from "./apply_layer.ts";
export { cleanName } from "./clean_name.ts";
export {
  type Compression,
  decompress,
  type Decompressed,
  type DecompressOptions,
  detectCompression,
  uncompressedDigest,
} from "./compression.ts";
export { InflateWorkers } from "./_threaded_inflate.ts";
export { type PackEntry, packFiles, tarStream } from "./pack_files.ts";
export { type ArchiveEntry, readArchive } from "./read_archive.ts";
export { packDir, type PackDirOptions } from "./pack_dir.ts";
export { packUpper, type PackUpperOptions } from "./pack_upper.ts";
