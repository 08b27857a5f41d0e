/**
 * gzip for uncompressed layer blobs (images loaded from docker-archives keep
 * plain tars) as they are pushed: registries and Docker expect compressed
 * layers. The compressed bytes stream to the registry and into a new blob of
 * the store at once (hashed once, on the way), so a push costs about the
 * compression alone, and the next push reuses the blob.
 *
 * Compression is the cost, so it takes the fastest way the host has:
 *
 * 1. ISA-L's `igzip -1` when it is installed (Debian's `isal`), as containerd
 *    uses `pigz` when it finds one: ~600 MB/s on one core here, against
 *    ~220 MB/s for zlib's level 1, and smaller output (a 344 MB layer: 146 MB,
 *    against 160 MB at zlib level 1 and 132 MB at zlib level 6).
 *    `BERTH_IGZIP=0` turns it off.
 * 2. Else as pigz does it: blocks of the layer are raw-deflated by worker
 *    threads (`_gzip_worker.ts`, one per core, at most two), and their
 *    outputs, each closed by a sync flush, are joined in order into one gzip
 *    member whose CRC-32 and size are computed here. On 2 cores this took a
 *    90 MB layer from 0.71 s to 0.45 s. Level 1: 0.7 s against 1.3 s at
 *    level 6 for that layer, for 7% more bytes.
 * 3. Where workers cannot start (one core, or a compiled binary built without
 *    `--include` of the worker) one `node:zlib` stream on this thread.
 *
 * Each writes one gzip member, as Docker and podman do.
 *
 * @module
 */
import { createReadStream } from "node:fs";
import { crc32, createGzip } from "node:zlib";
import type { Digest } from "../digest.ts";
import type { RegistryClient } from "../registry/mod.ts";
import { BlobWriter, type StagedBlob, type Store } from "../store/mod.ts";

/** zlib's default 16 KiB chunks cost more per byte downstream. */
const CHUNK_SIZE = 256 * 1024;
/** Uncompressed bytes per block given to a worker. */
const BLOCK = 4 * 1024 * 1024;
/** gzip header: magic, deflate, no flags, no mtime, no extra flags, OS unknown (as Go writes it). */
const GZIP_HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** Options for {@linkcode pushCompressed}. */
export interface PushCompressedOptions {
  /** zlib level, 1 (fastest) to 9, when igzip is not used (it runs at its level 1). @default 1 */
  level?: number;
  /** Compressed bytes sent so far. */
  onProgress?: (bytes: number) => void;
}

/**
 * gzips a stored blob into the registry and into the store at once.
 * @returns the compressed blob's digest and size (now in both places)
 * @throws {RegistryError} when the registry refuses the upload (nothing is stored)
 */
export async function pushCompressed(
  store: Store,
  client: RegistryClient,
  { repo, blob }: { repo: string; blob: Digest },
  options: PushCompressedOptions = {},
): Promise<{ digest: Digest; size: number }> {
  const writer = new BlobWriter(store.tmpDir);
  const path = store.blobs.path(blob);
  const level = options.level ?? 1;
  let compressed: ReadableStream<Uint8Array> | undefined;
  let staged: StagedBlob | undefined;
  let sent: { digest: Digest; size: number };
  try {
    const source = igzip(path) ?? await parallelGzip(path, level) ?? threadGzip(path, level);
    compressed = source.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          writer.write(chunk);
          controller.enqueue(chunk);
        },
      }),
    );
    sent = await client.uploadStream(repo, compressed, {
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      // The store's writer hashed every byte sent: its digest is the upload's.
      digest: () => (staged = writer.finish(undefined, "compressed layer")).digest,
    });
  } catch (error) {
    await compressed?.cancel().catch(() => {});
    writer.abort();
    throw error;
  }
  await store.locked(() => store.blobs.commit(staged!));
  return sent;
}

/**
 * `igzip -1` of the file, streamed from its stdout (one gzip member).
 * Splitting a layer between two igzip processes (one member each) was no
 * faster here: feeding them ranges of the file and collecting their output
 * cost what the second core saved.
 * @returns undefined when igzip is not installed or `BERTH_IGZIP=0`
 */
function igzip(path: string): ReadableStream<Uint8Array> | undefined {
  if (Deno.env.get("BERTH_IGZIP") === "0") return undefined;
  let child: Deno.ChildProcess;
  try {
    // -n: no file name or time in the header, as Go and `pigz -n` write it.
    child = new Deno.Command("igzip", {
      args: ["-1", "-n", "-c", "-q", path],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const chunks = child.stdout.getReader();
  const errors = new Response(child.stderr).text();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.read();
      if (!done) return controller.enqueue(value);
      const status = await child.status;
      if (!status.success) {
        const reason = (await errors).trim() || `exit status ${status.code}`;
        throw new Error(`igzip failed on "${path}": ${reason}`);
      }
      controller.close();
    },
    async cancel() {
      try {
        child.kill();
      } catch {
        // already exited
      }
      await chunks.cancel().catch(() => {});
      await child.status;
      await errors.catch(() => {});
    },
  }, { highWaterMark: 0 });
}

/** gzip on this thread. */
function threadGzip(path: string, level: number): ReadableStream<Uint8Array> {
  const gzip = createGzip({ level, chunkSize: CHUNK_SIZE });
  const input = createReadStream(path, { highWaterMark: CHUNK_SIZE });
  input.on("error", (error) => gzip.destroy(error));
  input.pipe(gzip);
  const chunks = gzip[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) return controller.close();
      controller.enqueue(value as Uint8Array);
    },
    cancel: () => void input.destroy(),
  }, { highWaterMark: 0 });
}

/** A worker failed to run; before any output, compression falls back to this thread. */
class WorkerFailure extends Error {}

/** A worker's answer to one block. */
type Waiter = { resolve: (bytes: Uint8Array) => void; reject: (error: unknown) => void };

/**
 * The deflate workers, shared by every compression in this process: layers
 * push in parallel, and more workers than cores would only contend.
 */
class DeflatePool {
  static #shared: DeflatePool | undefined;
  readonly size: number;
  #workers: Worker[] = [];
  #waiting = new Map<number, Waiter>();
  #users = 0;
  #next = 0;
  #failure: WorkerFailure | undefined;

  private constructor(size: number) {
    this.size = size;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./_gzip_worker.ts", import.meta.url), { type: "module" });
      worker.onmessage = (e: MessageEvent<{ id: number; bytes: Uint8Array }>) => {
        this.#waiting.get(e.data.id)?.resolve(e.data.bytes);
        this.#waiting.delete(e.data.id);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        this.#failure ??= new WorkerFailure(e.message);
        for (const job of this.#waiting.values()) job.reject(this.#failure);
        this.#waiting.clear();
      };
      this.#workers.push(worker);
    }
  }

  /** The shared pool (one more user), or undefined with fewer than 2 CPUs or no workers. */
  static acquire(): DeflatePool | undefined {
    const size = Math.min(2, navigator.hardwareConcurrency || 1);
    if (size < 2) return undefined;
    try {
      DeflatePool.#shared ??= new DeflatePool(size);
    } catch {
      return undefined;
    }
    DeflatePool.#shared.#users++;
    return DeflatePool.#shared;
  }

  /** One user less; the last one stops the workers. */
  release(): void {
    if (--this.#users > 0) return;
    for (const worker of this.#workers) worker.terminate();
    if (DeflatePool.#shared === this) DeflatePool.#shared = undefined;
  }

  /** Raw-deflates a block (transferred: `data` is unusable afterwards). */
  deflate(data: Uint8Array<ArrayBuffer>, level: number, last: boolean): Promise<Uint8Array> {
    const id = this.#next++;
    const done = new Promise<Uint8Array>((resolve, reject) => {
      // A worker that died (before or after this) answers no more jobs.
      if (this.#failure !== undefined) reject(this.#failure);
      else this.#waiting.set(id, { resolve, reject });
    });
    done.catch(() => {}); // awaited in order later; not an unhandled rejection meanwhile
    this.#workers[id % this.size]!.postMessage({ id, data, level, last }, [data.buffer]);
    return done;
  }
}

/**
 * gzip by blocks in workers; resolves once the first block is compressed, or
 * to undefined when workers cannot run here.
 */
async function parallelGzip(
  path: string,
  level: number,
): Promise<ReadableStream<Uint8Array> | undefined> {
  const pool = DeflatePool.acquire();
  if (pool === undefined) return undefined;
  let file: Deno.FsFile;
  let size: number;
  try {
    file = await Deno.open(path);
    size = (await file.stat()).size;
  } catch (error) {
    pool.release();
    throw error;
  }
  let offset = 0;
  let crc = 0;
  let blocks = 0;
  const inFlight: Promise<Uint8Array>[] = [];
  /** Reads and sends blocks until two per worker are in flight. */
  const fill = async () => {
    while (inFlight.length < pool.size * 2 && (offset < size || blocks === 0)) {
      const block = new Uint8Array(Math.min(BLOCK, size - offset));
      for (let got = 0; got < block.byteLength;) {
        const n = await file.read(block.subarray(got));
        if (n === null) throw new Error(`Blob "${path}" shrank while it was read`);
        got += n;
      }
      offset += block.byteLength;
      crc = crc32(block, crc);
      blocks++;
      inFlight.push(pool.deflate(block, level, offset >= size));
    }
  };
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    pool.release();
    file.close();
  };
  let first: Uint8Array;
  try {
    await fill();
    first = await inFlight.shift()!;
  } catch (error) {
    close();
    if (error instanceof WorkerFailure) return undefined;
    throw error;
  }
  const pending: Uint8Array[] = [GZIP_HEADER, first];
  let ended = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending.length > 0) return controller.enqueue(pending.shift()!);
      if (ended) return controller.close();
      try {
        await fill();
        const bytes = inFlight.shift();
        if (bytes !== undefined) return controller.enqueue(await bytes);
      } catch (error) {
        close();
        throw error;
      }
      ended = true;
      close();
      const trailer = new DataView(new ArrayBuffer(8));
      trailer.setUint32(0, crc >>> 0, true);
      trailer.setUint32(4, size % 2 ** 32, true);
      controller.enqueue(new Uint8Array(trailer.buffer));
    },
    cancel: close,
  }, { highWaterMark: 0 });
}
