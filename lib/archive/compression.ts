/**
 * Layer compression: sniffing the format from magic bytes and streaming
 * decompression with `node:zlib` (gzip and zstd; Deno's
 * `DecompressionStream` has no zstd).
 *
 * @module
 */
import { createGunzip, createZstdDecompress } from "node:zlib";
import type { Transform } from "node:stream";
import { type Digest, Hasher } from "../digest.ts";
import { InvalidError } from "../errors.ts";
import { type InflateWorkers, threadedInflate } from "./_threaded_inflate.ts";
import { paceGc } from "./_gc_pacer.ts";

/** A compression berth can read. */
export type Compression = "none" | "gzip" | "zstd";

/** What {@linkcode decompress} returns. */
export interface Decompressed {
  /** The format sniffed from the first bytes. */
  compression: Compression;
  /** The uncompressed bytes. Cancelling it cancels the source. */
  stream: ReadableStream<Uint8Array>;
  /**
   * With `threaded`, for compressed sources: settles once `stream` has ended
   * with the sha256 and size of the uncompressed bytes (hashed on the worker).
   */
  result?: Promise<{ digest: Digest; size: number }>;
}

/** Options for {@linkcode decompress}. */
export interface DecompressOptions {
  /** Called after each chunk read from the source with the total bytes read so far. */
  onProgress?: (bytesIn: number) => void;
  /**
   * Inflate and hash the output in a worker thread when the source is
   * compressed (falls back to this thread where workers cannot run).
   * @default false
   */
  threaded?: boolean;
  /** With `threaded`: the pool to borrow the worker from. @default a worker for this stream */
  workers?: InflateWorkers;
  /**
   * With `threaded`: the source's chunks are not read again once read from
   * it (nor is any other view of their memory), so their memory may move to
   * the worker instead of being copied. @default false
   */
  transferChunks?: boolean;
}

const MAGIC: ReadonlyArray<readonly [string, readonly number[]]> = [
  ["gzip", [0x1f, 0x8b]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
];
/** Bytes needed to tell every format in {@linkcode MAGIC} apart. */
const SNIFF_SIZE = 6;
/** zlib's default 16 KiB output chunks cost more per byte downstream. */
const CHUNK_SIZE = 128 * 1024;

/**
 * Names the compression of a stream from its first bytes (at least 6 when the
 * stream is that long); anything unrecognised is taken as a plain tar.
 * @throws {InvalidError} for bzip2 and xz, which berth does not read
 */
export function detectCompression(bytes: Uint8Array): Compression {
  for (const [name, magic] of MAGIC) {
    if (bytes.byteLength >= magic.length && magic.every((b, i) => bytes[i] === b)) {
      if (name === "gzip" || name === "zstd") return name;
      throw new InvalidError(`Unsupported layer compression: "${name}"`);
    }
  }
  return "none";
}

/**
 * Sniffs the compression of `source` and returns its uncompressed bytes.
 * Corrupt or truncated compressed data errors the returned stream with an
 * {@linkcode InvalidError}; errors of `source` pass through unchanged.
 * @param source the possibly compressed bytes; this takes its reader
 * @returns the sniffed format and the uncompressed stream
 * @throws {InvalidError} for an unsupported compression
 */
export async function decompress(
  source: ReadableStream<Uint8Array>,
  options: DecompressOptions = {},
): Promise<Decompressed> {
  const reader = source.getReader();
  const onProgress = options.onProgress;
  let bytesIn = 0;
  const read = async (): Promise<Uint8Array | undefined> => {
    const { done, value } = await reader.read();
    if (done) return undefined;
    bytesIn += value.byteLength;
    paceGc(value.byteLength);
    onProgress?.(bytesIn);
    return value;
  };
  const head: Uint8Array[] = [];
  let compression: Compression;
  try {
    let size = 0;
    while (size < SNIFF_SIZE) {
      const chunk = await read();
      if (chunk === undefined) break;
      head.push(chunk);
      size += chunk.byteLength;
    }
    compression = detectCompression(concatHead(head));
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  if (compression === "none") return { compression, stream: replay(head, read, reader) };
  const threaded = options.threaded
    ? await threadedInflate(compression, head, read, reader, {
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      transfer: options.transferChunks ?? false,
    })
    : undefined;
  if (threaded !== undefined) return { compression, ...threaded };
  return { compression, stream: inflate(compression, head, read, reader) };
}

/**
 * Hashes the uncompressed bytes of a (possibly compressed) layer without
 * extracting it: its diff ID. Inflates on a worker thread where one can run.
 * @param source the layer blob; it is consumed, or cancelled on failure
 * @returns the sha256 and size of the uncompressed bytes, and the sniffed format
 * @throws {InvalidError} for an unsupported compression or corrupt data
 */
export async function uncompressedDigest(
  source: ReadableStream<Uint8Array>,
): Promise<{ digest: Digest; size: number; compression: Compression }> {
  const { compression, stream, result } = await decompress(source, { threaded: true });
  const hasher = result === undefined ? new Hasher() : undefined;
  for await (const chunk of stream) hasher?.update(chunk);
  const hashed = hasher === undefined
    ? await result!
    : { digest: hasher.digest(), size: hasher.size };
  return { ...hashed, compression };
}

function concatHead(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(SNIFF_SIZE);
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, SNIFF_SIZE - offset);
    out.set(part, offset);
    offset += part.byteLength;
    if (offset === SNIFF_SIZE) break;
  }
  return out.subarray(0, offset);
}

type Read = () => Promise<Uint8Array | undefined>;

/** The sniffed chunks, then the rest of the source, unchanged. */
function replay(
  head: Uint8Array[],
  read: Read,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = head.shift() ?? await read();
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 4 });
}

/** Pumps the source through a zlib transform, respecting back-pressure both ways. */
function inflate(
  compression: "gzip" | "zstd",
  head: Uint8Array[],
  read: Read,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  const z: Transform = compression === "gzip"
    ? createGunzip({ chunkSize: CHUNK_SIZE })
    : createZstdDecompress({ chunkSize: CHUNK_SIZE });
  let settled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        controller.error(error);
        z.destroy();
        reader.cancel().catch(() => {});
      };
      z.on("data", (chunk: Uint8Array) => {
        if (settled) return;
        paceGc(chunk.byteLength);
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 0) <= 0) z.pause();
      });
      z.on("end", () => {
        if (settled) return;
        settled = true;
        controller.close();
      });
      z.on("error", (error: Error) => {
        fail(new InvalidError(`Invalid ${compression} data: ${error.message}`, { cause: error }));
      });
      pump(z, head, read).catch(fail);
    },
    pull() {
      z.resume();
    },
    cancel(reason) {
      settled = true;
      z.destroy();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 4 });
}

async function pump(z: Transform, head: Uint8Array[], read: Read): Promise<void> {
  for (;;) {
    const chunk = head.shift() ?? await read();
    if (z.destroyed) return;
    if (chunk === undefined) break;
    if (!z.write(chunk)) await drained(z);
  }
  z.end();
}

/** Resolves on 'drain', or on 'close' so that a destroyed transform cannot hang the pump. */
function drained(z: Transform): Promise<void> {
  return new Promise((resolve) => {
    if (z.destroyed) return resolve();
    const done = () => {
      z.off("drain", done);
      z.off("close", done);
      resolve();
    };
    z.on("drain", done);
    z.on("close", done);
  });
}
