/**
 * Layer extraction: (compressed) tar stream -> directory, with the diff ID.
 *
 * @module
 */
import { type Digest, Hasher } from "../digest.ts";
import { ConflictError, EngineError, InvalidError } from "../errors.ts";
import { cleanName } from "./clean_name.ts";
import { type Compression, decompress } from "./compression.ts";
import type { InflateWorkers } from "./_threaded_inflate.ts";
import { type FileSink, type LayerEntry, LayerWriter } from "./_layer_writer.ts";
import { paxXattrs, type TarHeader } from "./_pax_xattrs.ts";
import { lowerFirst, runExtract } from "./_run_extract.ts";
import type { Readable } from "node:stream";

/** Options for {@linkcode applyLayer}. */
export interface ApplyLayerOptions {
  /** Called as the source is read, with the total (compressed) bytes read so far. */
  onProgress?: (bytesIn: number) => void;
  /** Inflate workers to borrow from (a pull lends them from layer to layer). @default one for this layer */
  workers?: InflateWorkers;
  /**
   * The source's chunks are not read again once read from it (nor is any
   * other view of their memory): they may be moved to the inflating worker
   * instead of copied. @default false
   */
  transferChunks?: boolean;
  /**
   * Extract a plain copy (`cp`), not an image layer: `.wh.` names are
   * ordinary files (whiteouts belong to image layers only), and a directory
   * is never replaced by a non-directory nor the reverse (Docker's
   * NoOverwriteDirNonDir). `shownAs` names the target in messages.
   * @default undefined (an image layer)
   */
  copy?: { shownAs: string };
}

/** What {@linkcode applyLayer} returns. */
export interface AppliedLayer {
  /** sha256 of the uncompressed tar: the layer's diff ID. */
  diffId: Digest;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** The compression sniffed from the source. */
  compression: Compression;
}

/**
 * Extracts a layer tar (plain, gzip or zstd) into `target`, converting OCI
 * whiteouts to overlayfs ones (`.wh.NAME` -> 0/0 character device,
 * `.wh..wh..opq` -> `trusted.overlay.opaque=y`); with `copy`, extracts a
 * plain copy instead (see {@linkcode ApplyLayerOptions.copy}).
 *
 * Every entry is confined to `target`: names are cleaned as if rooted there,
 * and a symlink met as a parent directory is resolved as if `target` were `/`
 * (as Docker's chrooted extraction does), so `evil -> /` then `evil/x` writes
 * `target/x`. The last component is never followed, and hardlinks must point
 * to a non-directory already extracted inside `target`.
 *
 * @param source the layer blob; it is consumed, or cancelled on failure
 * @param target an existing, empty directory; on failure the caller removes it
 *   (for `copy`, any existing directory, left as far as the copy got)
 * @returns the diff ID, the uncompressed size and the sniffed compression
 * @throws {InvalidError} for unsupported compression (`Unsupported layer compression: "xz"`),
 *   or corrupt data or an unsafe entry (`Invalid layer archive: ...`)
 * @throws {ConflictError} for `copy`, when an entry would replace a directory with a
 *   non-directory or the reverse (`Cannot overwrite directory "/x/f" with non-directory "/x"`)
 * @throws {EngineError} when the file system refuses an entry, or the source fails
 *   (`Cannot read layer archive: ...`)
 */
export async function applyLayer(
  source: ReadableStream<Uint8Array>,
  target: string,
  options: ApplyLayerOptions = {},
): Promise<AppliedLayer> {
  const { compression, stream, result } = await decompress(source, { ...options, threaded: true });
  // A compressed layer's diff ID is hashed on the inflating worker; a plain one's here.
  const hasher = result === undefined ? new Hasher() : undefined;
  const copy = options.copy;
  const writer = new LayerWriter(target, copy === undefined ? {} : { copy });
  const what = copy === undefined ? "layer archive" : "archive";
  let hashed: { digest: Digest; size: number };
  try {
    await runExtract(stream, (header, body, next, fail) => {
      extractEntry(
        writer,
        header,
        body,
        next,
        (error) => fail(entryError(what, header.name, error)),
      );
    }, { what, ...(hasher ? { onChunk: (chunk) => hasher.update(chunk) } : {}) });
    hashed = result === undefined ? { digest: hasher!.digest(), size: hasher!.size } : await result;
  } finally {
    writer.abort();
  }
  try {
    writer.finish();
  } catch (error) {
    throw new EngineError(`Cannot set directory times in "${target}"`, { cause: error });
  }
  return { diffId: hashed.digest, size: hashed.size, compression };
}

/** Writes one entry and its body, then calls `next`; errors go to `fail`. */
function extractEntry(
  writer: LayerWriter,
  header: TarHeader,
  body: Readable,
  next: () => void,
  fail: (error: unknown) => void,
): void {
  let sink: FileSink | undefined;
  try {
    sink = writer.add(toLayerEntry(header));
  } catch (error) {
    return fail(error);
  }
  if (sink === undefined) {
    // Deferred: a synchronous next() re-enters tar-stream's parser once per
    // entry, which a chunk holding thousands of empty entries would overflow.
    // tar-stream gives a directory no body, whatever its size field says.
    if (!header.size || header.type === "directory") return queueMicrotask(next);
    body.on("end", next);
    body.resume();
    return;
  }
  const file = sink;
  body.on("data", (chunk: Uint8Array) => {
    try {
      file.write(chunk);
    } catch (error) {
      fail(error);
    }
  });
  body.on("end", () => {
    try {
      file.close();
    } catch (error) {
      return fail(error);
    }
    next();
  });
}

function toLayerEntry(header: TarHeader): LayerEntry {
  const pax = header.pax ?? undefined;
  const mtime = paxNumber(pax?.mtime) ?? (header.mtime?.getTime() ?? 0) / 1000;
  return {
    path: cleanName(header.name),
    type: header.type ?? "unknown",
    mode: (header.mode ?? 0o644) & 0o7777,
    uid: paxNumber(pax?.uid) ?? header.uid ?? 0,
    gid: paxNumber(pax?.gid) ?? header.gid ?? 0,
    // As Docker: the access time is never before the modification time.
    atime: Math.max(paxNumber(pax?.atime) ?? mtime, mtime),
    mtime,
    linkname: header.linkname ?? "",
    devmajor: header.devmajor ?? 0,
    devminor: header.devminor ?? 0,
    size: header.size ?? 0,
    xattrs: paxXattrs(header),
  };
}

function paxNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function entryError(what: string, name: string, error: unknown): EngineError {
  // A copy's refusal (Docker's own message) already names both paths.
  if (error instanceof ConflictError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  if (!(error instanceof InvalidError)) {
    const entry = what === "layer archive" ? "layer entry" : "entry";
    return new EngineError(`Cannot extract ${entry} "${name}": ${reason}`, { cause: error });
  }
  const message = `Invalid ${what}: cannot extract "${name}": ${lowerFirst(reason)}`;
  return new InvalidError(message, { cause: error });
}
