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
 * Messages in: `{ format }` once, then `{ chunk }` for each compressed chunk,
 * then `{ end: true }`. Out: `{ ack }` (input bytes consumed), `{ out }`
 * (uncompressed bytes, transferred), `{ done, digest, size }` or `{ error }`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createGunzip, createZstdDecompress } from "node:zlib";

type Inbound = { format: "gzip" | "zstd" } | { chunk: Uint8Array } | { end: true };

/** zlib's default 16 KiB output chunks cost more per byte downstream. */
const CHUNK_SIZE = 256 * 1024;

/** The worker's global scope (typed by hand: this project type-checks with the window lib). */
const scope = self as unknown as {
  onmessage: (event: MessageEvent<Inbound>) => void;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

/** Takes the compressed bytes; `done` runs once a chunk is consumed. */
interface Inflater {
  write(chunk: Uint8Array, done: () => void): void;
  end(): void;
}

let inflater: Inflater | undefined;
const hash = createHash("sha256");
let size = 0;
let failed = false;

/** Hashes and sends one buffer of output, which it then no longer owns. */
function emit(out: Uint8Array<ArrayBuffer>): void {
  hash.update(out);
  size += out.byteLength;
  scope.postMessage({ out }, [out.buffer]);
}

function fail(reason: string): void {
  if (failed) return;
  failed = true;
  scope.postMessage({ error: reason });
}

function finish(): void {
  if (!failed) scope.postMessage({ done: true, digest: hash.digest("hex"), size });
}

function zlib(format: "gzip" | "zstd"): Inflater {
  const stream = format === "gzip"
    ? createGunzip({ chunkSize: CHUNK_SIZE })
    : createZstdDecompress({ chunkSize: CHUNK_SIZE });
  // zlib's chunks may share one buffer: copy into one of its own to transfer.
  stream.on("data", (data: Uint8Array) => emit(new Uint8Array(data)));
  stream.on("end", finish);
  stream.on("error", (error: Error) => fail(error.message));
  return {
    write: (chunk, done) => void stream.write(chunk, done),
    end: () => void stream.end(),
  };
}

/** `igzip -dc` fed on stdin, or undefined when it is off or not installed. */
function igzip(): Inflater | undefined {
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
  readOutput(child, errors).catch((error) => fail(String(error)));
  let writing = Promise.resolve();
  return {
    // A write fails only when igzip has exited: its status tells why (or that
    // it stopped at the end of the gzip data, ignoring what trails it).
    write: (chunk, done) =>
      void (writing = writing.then(() => stdin.write(chunk)).then(done, done)),
    end: () => void (writing = writing.then(() => stdin.close()).catch(() => {})),
  };
}

/** Reads igzip's stdout into whole {@linkcode CHUNK_SIZE} buffers, then checks its status. */
async function readOutput(child: Deno.ChildProcess, errors: Promise<string>): Promise<void> {
  const reader = child.stdout.getReader({ mode: "byob" });
  let buffer = new Uint8Array(CHUNK_SIZE);
  let filled = 0;
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(buffer.buffer, filled));
    if (value !== undefined) {
      buffer = new Uint8Array(value.buffer);
      filled += value.byteLength;
    }
    if (done || filled === CHUNK_SIZE) {
      if (filled > 0) emit(buffer.subarray(0, filled));
      buffer = new Uint8Array(CHUNK_SIZE);
      filled = 0;
    }
    if (done) break;
  }
  const status = await child.status;
  if (status.success) return finish();
  // igzip names stdin "(null)": "Error (null) does not contain a complete gzip file".
  const reason = (await errors).trim().replace(/^igzip: /, "").replace(/ (file )?\(null\)/, "");
  if (/complete gzip file/.test(reason)) return fail("unexpected end of file");
  fail(`igzip: ${reason || `exit status ${status.code}`}`);
}

scope.onmessage = (event) => {
  const message = event.data;
  if ("format" in message) {
    inflater = (message.format === "gzip" ? igzip() : undefined) ?? zlib(message.format);
  } else if ("chunk" in message) {
    const bytes = message.chunk.byteLength;
    inflater!.write(message.chunk, () => scope.postMessage({ ack: bytes }));
  } else {
    inflater!.end();
  }
};

scope.postMessage({ ready: true });
