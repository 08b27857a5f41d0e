/**
 * A worker of `_threaded_inflate.ts`: gunzips (or un-zstds) one layer and
 * hashes what comes out (the diff ID), so that a pull's main thread only
 * parses the tar and writes files while this runs on another core.
 *
 * gzip goes through ISA-L's `igzip -dc` when it is installed (Debian's
 * `isal`; `BERTH_IGZIP=0` turns it off), as containerd hands it to `pigz`:
 * a 340 MB layer inflates in ~0.35 s against ~0.6 s for node:zlib. Its
 * output is read straight into the buffers sent on (no copy). Else, and for
 * zstd, node:zlib runs here.
 *
 * A worker runs one job at a time and may be lent again for the next layer
 * (a worker costs ~25 ms of CPU to start). Each message names its job, so
 * that nothing of a finished job (a late write callback, chunks past the
 * gzip data's end) reaches the next. In: `{ job, format }` to start one, then
 * `{ job, chunk }` for each compressed chunk, then `{ job, end: true }`, and
 * `{ job, took }` as the reader takes output. Out: `{ job, ack }` (input
 * bytes consumed), `{ job, out }` (uncompressed bytes, transferred),
 * `{ job, done, digest, size }` or `{ job, error }`.
 *
 * Output not yet taken is bounded ({@linkcode MAX_UNTAKEN}): past it the
 * worker stops inflating, so input stops being acknowledged and the sender
 * stops sending. Bounding input alone is not enough: 4 MB of gzip'd zeros
 * inflate to 4 GB.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { paceGc } from "./_gc_pacer.ts";

type Inbound =
  & { job: number }
  & ({ format: "gzip" | "zstd" } | { chunk: Uint8Array } | { end: true } | { took: number });

/** zlib's default 16 KiB output chunks cost more per byte downstream. */
const CHUNK_SIZE = 256 * 1024;
/** Output bytes sent and not yet taken by the reader before inflating pauses. */
const MAX_UNTAKEN = 8 * 1024 * 1024;

/** The worker's global scope (typed by hand: this project type-checks with the window lib). */
const scope = self as unknown as {
  onmessage: (event: MessageEvent<Inbound>) => void;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

/** Takes the compressed bytes; `done` runs once a chunk is consumed. */
interface Inflater {
  write(chunk: Uint8Array, done: () => void): void;
  end(): void;
  /** The reader took output: inflating may go on if it had paused. */
  resume(): void;
}

/** One layer's output: hashed, counted and sent, tagged with its job. */
class Output {
  #job: number;
  #hash = createHash("sha256");
  #size = 0;
  #untaken = 0;
  #roomWaiters: (() => void)[] = [];
  #settled = false;

  constructor(job: number) {
    this.#job = job;
  }

  /** Whether the reader has fallen {@linkcode MAX_UNTAKEN} bytes behind. */
  get full(): boolean {
    return this.#untaken >= MAX_UNTAKEN;
  }

  /** Resolves once the output is no longer {@linkcode full} (or has settled). */
  room(): Promise<void> {
    if (!this.full || this.#settled) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** The reader took `bytes` of output. */
  took(bytes: number): void {
    this.#untaken -= bytes;
    if (!this.full) { for (const wake of this.#roomWaiters.splice(0)) wake(); }
  }

  /** Hashes and sends one buffer of output, which it then no longer owns. */
  emit(out: Uint8Array<ArrayBuffer>): void {
    if (this.#settled) return;
    const bytes = out.byteLength;
    this.#hash.update(out);
    this.#size += bytes;
    this.#untaken += bytes;
    scope.postMessage({ job: this.#job, out }, [out.buffer]);
    // zlib's own output buffers are this thread's garbage (igzip's move out whole).
    paceGc(bytes);
  }

  ack(bytes: number): void {
    scope.postMessage({ job: this.#job, ack: bytes });
  }

  fail(reason: string): void {
    if (this.#settled) return;
    this.#settle();
    scope.postMessage({ job: this.#job, error: reason });
  }

  finish(): void {
    if (this.#settled) return;
    this.#settle();
    const digest = this.#hash.digest("hex");
    scope.postMessage({ job: this.#job, done: true, digest, size: this.#size });
  }

  #settle(): void {
    this.#settled = true;
    for (const wake of this.#roomWaiters.splice(0)) wake();
  }
}

function zlib(format: "gzip" | "zstd", output: Output): Inflater {
  const stream = format === "gzip"
    ? createGunzip({ chunkSize: CHUNK_SIZE })
    : createZstdDecompress({ chunkSize: CHUNK_SIZE });
  // zlib's chunks may share one buffer: copy into one of its own to transfer.
  stream.on("data", (data: Uint8Array) => {
    output.emit(new Uint8Array(data));
    // Paused, zlib stops once its own buffer is full, even within one input chunk.
    if (output.full) stream.pause();
  });
  stream.on("end", () => output.finish());
  stream.on("error", (error: Error) => output.fail(error.message));
  return {
    write: (chunk, done) => void stream.write(chunk, done),
    end: () => void stream.end(),
    resume: () => {
      if (!output.full && stream.isPaused()) stream.resume();
    },
  };
}

/** `igzip -dc` fed on stdin, or undefined when it is off or not installed. */
function igzip(output: Output): Inflater | undefined {
  if (Deno.env.get("BERTH_IGZIP") === "0") return undefined;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("igzip", {
      args: ["-d", "-c", "-q"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const stdin = child.stdin.getWriter();
  const errors = new Response(child.stderr).text();
  readOutput(child, errors, output).catch((error) => output.fail(String(error)));
  let writing = Promise.resolve();
  return {
    // A write fails only when igzip has exited: its status tells why (or that
    // it stopped at the end of the gzip data, ignoring what trails it).
    write: (chunk, done) =>
      void (writing = writing.then(() => stdin.write(chunk)).then(done, done)),
    end: () => void (writing = writing.then(() => stdin.close()).catch(() => {})),
    // readOutput waits for room itself; igzip blocks on its full stdout pipe meanwhile.
    resume: () => {},
  };
}

/** Reads igzip's stdout into whole {@linkcode CHUNK_SIZE} buffers, then checks its status. */
async function readOutput(
  child: Deno.ChildProcess,
  errors: Promise<string>,
  output: Output,
): Promise<void> {
  const reader = child.stdout.getReader({ mode: "byob" });
  let buffer = new Uint8Array(CHUNK_SIZE);
  let filled = 0;
  for (;;) {
    if (filled === 0) await output.room();
    const { done, value } = await reader.read(new Uint8Array(buffer.buffer, filled));
    if (value !== undefined) {
      buffer = new Uint8Array(value.buffer);
      filled += value.byteLength;
    }
    if (done || filled === CHUNK_SIZE) {
      if (filled > 0) output.emit(buffer.subarray(0, filled));
      buffer = new Uint8Array(CHUNK_SIZE);
      filled = 0;
    }
    if (done) break;
  }
  const status = await child.status;
  if (status.success) return output.finish();
  // igzip names stdin "(null)": "Error (null) does not contain a complete gzip file".
  const reason = (await errors).trim().replace(/^igzip: /, "").replace(/ (file )?\(null\)/, "");
  if (/complete gzip file/.test(reason)) return output.fail("unexpected end of file");
  output.fail(`igzip: ${reason || `exit status ${status.code}`}`);
}

let current: { job: number; output: Output; inflater: Inflater } | undefined;

scope.onmessage = (event) => {
  const message = event.data;
  if ("format" in message) {
    const output = new Output(message.job);
    const inflater = (message.format === "gzip" ? igzip(output) : undefined) ??
      zlib(message.format, output);
    current = { job: message.job, output, inflater };
    return;
  }
  // What an earlier job's source still held is dropped.
  if (current === undefined || message.job !== current.job) return;
  if ("chunk" in message) {
    const { output } = current;
    const bytes = message.chunk.byteLength;
    current.inflater.write(message.chunk, () => output.ack(bytes));
  } else if ("took" in message) {
    current.output.took(message.took);
    current.inflater.resume();
  } else {
    current.inflater.end();
  }
};

scope.postMessage({ ready: true });
