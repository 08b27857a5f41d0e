/**
 * Reading request bodies chunk by chunk under a size limit, for every
 * storage implementation.
 *
 * @module
 */
import { RegistryError } from "../_errors.ts";

/** The error for a body past the size limit (413 rather than the code's usual 400). */
export function tooLarge(limit: number): RegistryError {
  return new RegistryError("SIZE_INVALID", `Blob is larger than the limit of ${limit} bytes`, {
    status: 413,
    detail: { limit },
  });
}

/**
 * Yields the chunks of `stream`, throwing once more than `maxSize - already`
 * bytes have come. Cancels the stream when the consumer stops early.
 * @throws {RegistryError} SIZE_INVALID (413) past the limit, BLOB_UPLOAD_INVALID when the stream errors
 */
export async function* limitedChunks(
  stream: ReadableStream<Uint8Array> | null,
  maxSize = Infinity,
  already = 0,
): AsyncGenerator<Uint8Array> {
  if (stream === null) return;
  let total = already;
  const reader = stream.getReader();
  try {
    while (true) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        // The client went away or the connection closed: its fault, not the server's.
        throw new RegistryError("BLOB_UPLOAD_INVALID", "Request body broke off", { cause: error });
      }
      const { done, value } = next;
      if (done) return;
      total += value.byteLength;
      if (total > maxSize) throw tooLarge(maxSize);
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** A stream of one byte array. */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** Reads a whole stream into one array, refusing more than `maxSize` bytes. */
export async function readAll(
  stream: ReadableStream<Uint8Array> | null,
  maxSize = Infinity,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of limitedChunks(stream, maxSize)) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
