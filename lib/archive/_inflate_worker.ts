/**
 * A worker of `_threaded_inflate.ts`: gunzips (or un-zstds) one layer and
 * hashes what comes out (the diff ID), so that a pull's main thread only
 * parses the tar and writes files while this runs on another core.
 *
 * Messages in: `{ format }` once, then `{ chunk }` for each compressed chunk,
 * then `{ end: true }`. Out: `{ ack }` (input bytes consumed), `{ out }`
 * (uncompressed bytes, transferred), `{ done, digest, size }` or `{ error }`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createGunzip, createZstdDecompress } from "node:zlib";
import type { Transform } from "node:stream";

type Inbound = { format: "gzip" | "zstd" } | { chunk: Uint8Array } | { end: true };

/** zlib's default 16 KiB output chunks cost more per byte downstream. */
const CHUNK_SIZE = 256 * 1024;

/** The worker's global scope (typed by hand: this project type-checks with the window lib). */
const scope = self as unknown as {
  onmessage: (event: MessageEvent<Inbound>) => void;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

let z: Transform | undefined;
const hash = createHash("sha256");
let size = 0;
let failed = false;

function start(format: "gzip" | "zstd"): Transform {
  const stream = format === "gzip"
    ? createGunzip({ chunkSize: CHUNK_SIZE })
    : createZstdDecompress({ chunkSize: CHUNK_SIZE });
  stream.on("data", (data: Uint8Array) => {
    hash.update(data);
    size += data.byteLength;
    // zlib's chunks may share one buffer: copy into one of its own to transfer.
    const out = new Uint8Array(data);
    scope.postMessage({ out }, [out.buffer]);
  });
  stream.on("end", () => {
    if (!failed) scope.postMessage({ done: true, digest: hash.digest("hex"), size });
  });
  stream.on("error", (error: Error) => {
    failed = true;
    scope.postMessage({ error: error.message });
  });
  return stream;
}

scope.onmessage = (event) => {
  const message = event.data;
  if ("format" in message) {
    z = start(message.format);
  } else if ("chunk" in message) {
    const bytes = message.chunk.byteLength;
    z!.write(message.chunk, () => scope.postMessage({ ack: bytes }));
  } else {
    z!.end();
  }
};

scope.postMessage({ ready: true });
