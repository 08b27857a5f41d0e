/**
 * Downloading a blob as one verified stream: bytes are hashed as they pass;
 * when the connection breaks, the download goes on from the bytes already
 * received with an HTTP `Range` request (a registry that ignores Range is read
 * past what was received); at the end the size and digest are checked and a
 * mismatch errors the stream, so whoever consumes it stores nothing.
 *
 * @module
 */
import { Hasher, verifyDigest } from "../../digest.ts";
import { EngineError, InvalidError } from "../../errors.ts";
import type { Descriptor } from "../../image/mod.ts";
import { responseError, type Transport } from "./transport.ts";

/** Options for {@linkcode blobStream}. */
export interface BlobStreamOptions {
  /** Bytes of the blob the caller already has; the stream starts after them. @default 0 */
  offset?: number;
  /** A hasher that has seen exactly the first `offset` bytes. @default a new one */
  hasher?: Hasher;
  /**
   * Hash the bytes and check the digest at the end. Turn off only when the
   * caller hashes the whole blob itself (its store writer does, or it holds
   * the first `offset` bytes). @default true
   */
  verify?: boolean;
  /** Called with the total bytes received (including `offset`). */
  onProgress?: (bytes: number) => void;
  /** Called when a broken download will be resumed, with the wait before it. */
  onRetry?: (delayMs: number, offset: number) => void;
  /** Consecutive failures without progress before giving up. @default 5 */
  retries?: number;
  /** Base delay between attempts in ms (multiplied by the failure count). @default 200 */
  retryDelayMs?: number;
}

/**
 * Streams a blob from a registry, verified and resumable.
 * @param transport the registry's transport
 * @param repo the repository path (`library/busybox`)
 * @param blob the blob's descriptor (digest and size)
 * @returns the bytes after `offset`; errors with `DigestMismatchError` on a
 *   mismatch, `RegistryError` for `BLOB_UNKNOWN`, `EngineError` when retries run out
 */
export function blobStream(
  transport: Transport,
  repo: string,
  blob: Descriptor,
  options: BlobStreamOptions = {},
): ReadableStream<Uint8Array> {
  const hasher = options.hasher ?? new Hasher();
  const retries = options.retries ?? 5;
  const verify = options.verify ?? true;
  const what = `blob "${blob.digest}"`;
  let received = options.offset ?? 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let skip = 0;
  let failures = 0;
  let lastError: unknown;

  /** Opens the response from `received` on; returns a retryable error, throws a final one. */
  const open = async (): Promise<unknown> => {
    const headers: Record<string, string> = {};
    if (received > 0) headers.Range = `bytes=${received}-`;
    let res: Response;
    try {
      res = await transport.request(`/v2/${repo}/blobs/${blob.digest}`, {
        headers,
        scopes: [`repository:${repo}:pull`],
        mirrors: true,
      });
    } catch (error) {
      return error;
    }
    if (res.status >= 500) {
      await res.body?.cancel();
      return new EngineError(`Registry answered ${res.status} for ${what}`);
    }
    if (res.status === 416) {
      // The bytes held do not fit the blob: the caller must start again.
      await res.body?.cancel();
      throw new InvalidError(`Registry cannot resume ${what} at byte ${received}`);
    }
    if (!res.ok) throw await responseError(res, `Cannot download ${what}`);
    const start = Number(/^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "")?.[1]);
    if (res.status === 206 && start !== received) {
      await res.body?.cancel();
      return new EngineError(`Registry resumed ${what} at the wrong offset`);
    }
    if (res.body === null) return new EngineError(`Registry sent no body for ${what}`);
    skip = res.status === 206 ? 0 : received;
    reader = res.body.getReader();
    return undefined;
  };

  const fail = async (error: unknown): Promise<void> => {
    reader = undefined;
    lastError = error;
    if (++failures > retries) {
      throw new EngineError(`Download of ${what} failed after ${failures} attempts`, {
        cause: lastError,
      });
    }
    const delay = (options.retryDelayMs ?? 200) * failures;
    options.onRetry?.(delay, received);
    await new Promise((r) => setTimeout(r, delay));
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (reader === undefined && received === blob.size) {
          // Everything was already held: nothing to ask for.
          if (verify) verifyDigest(blob.digest, hasher.digest(), what);
          return controller.close();
        }
        if (reader === undefined) {
          const retryable = await open();
          if (retryable !== undefined) {
            await fail(retryable);
            continue;
          }
        }
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader!.read();
        } catch (error) {
          await fail(error);
          continue;
        }
        if (chunk.done) {
          if (received < blob.size) {
            await fail(new EngineError(`Connection closed after ${received} bytes of ${what}`));
            continue;
          }
          if (verify) verifyDigest(blob.digest, hasher.digest(), what);
          controller.close();
          return;
        }
        let value = chunk.value;
        if (skip > 0) {
          const drop = Math.min(skip, value.byteLength);
          skip -= drop;
          value = value.subarray(drop);
          if (value.byteLength === 0) continue;
        }
        received += value.byteLength;
        if (received > blob.size) {
          await reader!.cancel().catch(() => {});
          throw new InvalidError(`Registry sent more than the ${blob.size} bytes of ${what}`);
        }
        failures = 0;
        if (verify) hasher.update(value);
        options.onProgress?.(received);
        controller.enqueue(value);
        return;
      }
    },
    async cancel(reason) {
      await reader?.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
