/**
 * Pushing a blob per the distribution-spec: a cross-repository mount when a
 * source repository is known, else `POST` to open an upload, then one `PUT`
 * with the whole body for small blobs or `PATCH` chunks (with
 * `Content-Range`) and a closing `PUT ?digest=` for large ones.
 *
 * @module
 */
import { type Digest, Hasher } from "../../digest.ts";
import { EngineError } from "../../errors.ts";
import { responseError, type Transport } from "./transport.ts";

/** Options for {@linkcode uploadBlob}. */
export interface UploadOptions {
  /** Blobs smaller than this go in one PUT. @default 5 MiB */
  monolithicLimit?: number;
  /** Size of each PATCH of a chunked upload (each streams, unbuffered). @default 64 MiB */
  chunkSize?: number;
  /** A repository of the same registry that has the blob: try to mount it from there. */
  mountFrom?: string;
  /** Called with the bytes sent so far. */
  onProgress?: (bytes: number) => void;
}

/** How a blob reached the registry. */
export type UploadResult = { mounted: true; from: string } | { mounted: false };

const OCTET = "application/octet-stream";

/**
 * Uploads a blob the registry lacks.
 * @param open returns the blob's bytes from the start (called at most once)
 * @throws {RegistryError} with the registry's code (`DIGEST_INVALID`, `DENIED`...)
 */
export async function uploadBlob(
  transport: Transport,
  repo: string,
  blob: { digest: Digest; size: number },
  open: () => Promise<ReadableStream<Uint8Array>>,
  options: UploadOptions = {},
): Promise<UploadResult> {
  const scopes = [`repository:${repo}:pull,push`];
  const from = options.mountFrom;
  if (from !== undefined) scopes.push(`repository:${from}:pull`);
  const query = from === undefined ? "" : `?mount=${blob.digest}&from=${encodeURIComponent(from)}`;
  const started = await transport.request(`/v2/${repo}/blobs/uploads/${query}`, {
    method: "POST",
    headers: { "Content-Length": "0" },
    scopes,
  });
  if (started.status === 201 && from !== undefined) {
    await started.body?.cancel();
    return { mounted: true, from };
  }
  if (started.status !== 202) {
    throw await responseError(started, `Cannot start upload of blob "${blob.digest}"`);
  }
  await started.body?.cancel();
  let location = locationOf(started, transport);
  const source = (await open()).getReader();
  try {
    if (blob.size < (options.monolithicLimit ?? 5 * 1024 * 1024)) {
      const body = await readAll(source, blob.size);
      await send(transport, location, { method: "PUT", digest: blob.digest, body, scopes });
      options.onProgress?.(body.byteLength);
    } else {
      // Each chunk streams from the source (no buffering), with its Content-Range.
      const chunkSize = options.chunkSize ?? 64 * 1024 * 1024;
      const carry: { rest?: Uint8Array | undefined } = {};
      for (let sent = 0; sent < blob.size;) {
        const length = Math.min(chunkSize, blob.size - sent);
        let counted = 0;
        const body = slice(source, length, carry, (n) => {
          counted += n;
          options.onProgress?.(sent + counted);
        });
        location = await send(transport, location, {
          method: "PATCH",
          range: `${sent}-${sent + length - 1}`,
          body,
          scopes,
        });
        if (counted !== length) throw sizeError(blob, sent + counted);
        sent += length;
      }
      await send(transport, location, { method: "PUT", digest: blob.digest, scopes });
    }
  } finally {
    await source.cancel().catch(() => {});
  }
  return { mounted: false };
}

/** Options for {@linkcode uploadStream}. */
export interface UploadStreamOptions {
  /** Called with the bytes sent so far. */
  onProgress?: (bytes: number) => void;
  /**
   * The digest of every byte the source gave, called once they are all sent,
   * when the caller hashes them anyway (into its store); else they are hashed here.
   */
  digest?: () => Digest;
}

/**
 * Uploads bytes whose digest is not known before they are all sent (a layer
 * compressed on the way): one streamed `PATCH`, then `PUT ?digest=` with the
 * digest computed while sending.
 * @returns the blob's digest and size
 * @throws {RegistryError} with the registry's code
 */
export async function uploadStream(
  transport: Transport,
  repo: string,
  source: ReadableStream<Uint8Array>,
  options: UploadStreamOptions = {},
): Promise<{ digest: Digest; size: number }> {
  const scopes = [`repository:${repo}:pull,push`];
  const started = await transport.request(`/v2/${repo}/blobs/uploads/`, {
    method: "POST",
    headers: { "Content-Length": "0" },
    scopes,
  });
  if (started.status !== 202) throw await responseError(started, "Cannot start a blob upload");
  await started.body?.cancel();
  const hasher = options.digest === undefined ? new Hasher() : undefined;
  let size = 0;
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      hasher?.update(value);
      size += value.byteLength;
      options.onProgress?.(size);
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  const location = await send(transport, locationOf(started, transport), {
    method: "PATCH",
    body,
    scopes,
  });
  const digest = hasher?.digest() ?? options.digest!();
  await send(transport, location, { method: "PUT", digest, scopes });
  return { digest, size };
}

/** One request of an upload; returns the next upload location. */
async function send(
  transport: Transport,
  location: string,
  req: {
    method: "PATCH" | "PUT";
    body?: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;
    digest?: Digest;
    range?: string;
    scopes: string[];
  },
): Promise<string> {
  const url = new URL(location);
  if (req.digest !== undefined) url.searchParams.set("digest", req.digest);
  const headers: Record<string, string> = { "Content-Type": OCTET };
  if (req.range !== undefined) headers["Content-Range"] = req.range;
  if (req.body === undefined) headers["Content-Length"] = "0";
  const res = await transport.request(url.href, {
    method: req.method,
    headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
    scopes: req.scopes,
  });
  if (res.status !== (req.method === "PUT" ? 201 : 202)) {
    throw await responseError(res, `Cannot upload blob${req.digest ? ` "${req.digest}"` : ""}`);
  }
  await res.body?.cancel();
  return req.method === "PUT" ? location : locationOf(res, transport);
}

function sizeError(blob: { digest: Digest; size: number }, got: number): EngineError {
  return new EngineError(`Blob "${blob.digest}" has ${got} bytes, expected ${blob.size}`);
}

/** Reads exactly `size` bytes (a small blob) into one buffer. */
async function readAll(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  size: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(size);
  let fill = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    if (fill + r.value.byteLength > size) {
      throw new EngineError(`Blob is longer than ${size} bytes`);
    }
    out.set(r.value, fill);
    fill += r.value.byteLength;
  }
  if (fill !== size) throw new EngineError(`Blob has ${fill} bytes, expected ${size}`);
  return out;
}

/** The next `length` bytes of `reader` as a stream; bytes read past it wait in `carry`. */
function slice(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  length: number,
  carry: { rest?: Uint8Array | undefined },
  onBytes: (n: number) => void,
): ReadableStream<Uint8Array> {
  let left = length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (left === 0) return controller.close();
      let value = carry.rest;
      carry.rest = undefined;
      if (value === undefined) {
        const r = await reader.read();
        if (r.done) return controller.close();
        value = r.value;
      }
      if (value.byteLength > left) {
        carry.rest = value.subarray(left);
        value = value.subarray(0, left);
      }
      left -= value.byteLength;
      onBytes(value.byteLength);
      controller.enqueue(value);
    },
  }, { highWaterMark: 0 });
}

function locationOf(res: Response, transport: Transport): string {
  const location = res.headers.get("location");
  if (location === null) throw new EngineError("Registry sent no upload location");
  return new URL(location, transport.endpoints.origin).href;
}
