/**
 * One layer of a pull: downloaded (verified, resumed after a break, and
 * across processes through `partial_download.ts`) into its blob file AND
 * extracted at once, with back-pressure, as `import` does; or
 * only extracted from a blob the store has, or only downloaded when the
 * extracted layer exists. The diff ID is checked against the config.
 *
 * @module
 */
import { applyLayer, type InflateWorkers } from "../archive/mod.ts";
import { type Digest, digestHex, verifyDigest } from "../digest.ts";
import { DigestMismatchError, InvalidError } from "../errors.ts";
import type { Descriptor } from "../image/mod.ts";
import type { RegistryClient } from "../registry/mod.ts";
import type { StagedBlob, StagedLayer, Store } from "../store/mod.ts";
import type { StagedImageLayer } from "./image_commit.ts";
import { PartialDownload } from "./partial_download.ts";

/** A progress event of a pull, in Docker's words (`Downloading`, `Pull complete`). */
export interface PullEvent {
  /** The layer's short ID (12 hex digits of its blob digest); none for whole-image lines. */
  id?: string;
  status: string;
  current?: number;
  total?: number;
}

/** What one layer download needs. */
export interface LayerJob {
  store: Store;
  client: RegistryClient;
  repo: string;
  descriptor: Descriptor;
  diffId: Digest;
  chainId: Digest;
  emit: (event: PullEvent) => void;
  signal: AbortSignal;
  /** Inflate workers shared by the layers of one pull. */
  workers?: InflateWorkers;
}

/** The 12-hex short ID Docker shows for a layer. */
export function shortId(digest: Digest): string {
  return digestHex(digest).slice(0, 12);
}

/**
 * Fetches one layer (blob into `downloads/`, tree into `tmp/`; nothing becomes
 * visible until the image is committed).
 * @throws {DigestMismatchError} for a blob or diff ID that does not match
 */
export async function pullLayer(job: LayerJob): Promise<StagedImageLayer> {
  const { store, descriptor, emit } = job;
  const id = shortId(descriptor.digest);
  const haveBlob = store.blobs.has(descriptor.digest);
  const haveTree = store.layers.has(job.chainId);
  const total = descriptor.size;
  let writer: PartialDownload | undefined;
  let tree: StagedLayer | undefined;
  let source: ReadableStream<Uint8Array>;
  let rest = () => Promise.resolve();
  if (haveBlob) {
    source = (await store.blobs.open(descriptor.digest)).readable;
  } else {
    writer = PartialDownload.open(store.root, descriptor);
    const remote = job.client.blobStream(job.repo, descriptor, {
      offset: writer.offset,
      // The partial file hashes every byte (those of an earlier process too) and
      // `finish` checks the digest before anything is stored: one hash is enough.
      verify: false,
      onProgress: (current) => emit({ id, status: "Downloading", current, total }),
      onRetry: (delayMs) => {
        const seconds = Math.max(1, Math.ceil(delayMs / 1000));
        emit({ id, status: `Retrying in ${seconds} second${seconds === 1 ? "" : "s"}` });
      },
    });
    let stream: ReadableStream<Uint8Array>;
    ({ stream, rest } = tee(remote, writer, job.signal, () => {
      emit({ id, status: "Verifying Checksum" });
      emit({ id, status: "Download complete" });
    }));
    source = writer.offset > 0 ? concat(await writer.prefix(), stream) : stream;
  }
  let blob: StagedBlob | undefined;
  let size = store.layers.info(job.chainId)?.size ?? 0;
  try {
    if (haveTree) {
      for await (const _ of source) { /* the blob only */ }
    } else {
      tree = store.layers.stage();
      if (haveBlob) emit({ id, status: "Extracting", current: 0, total });
      const applied = await applyLayer(source, tree.diff, {
        ...(haveBlob
          ? { onProgress: (current: number) => emit({ id, status: "Extracting", current, total }) }
          : {}),
        ...(job.workers !== undefined ? { workers: job.workers } : {}),
        // Nothing reads a chunk again once `tee` has written it to the blob file.
        transferChunks: true,
      });
      verifyDigest(job.diffId, applied.diffId, `diff ID of layer "${descriptor.digest}"`);
      size = applied.size;
    }
    await rest();
    if (writer !== undefined) {
      blob = writer.finish(descriptor.digest, `blob "${descriptor.digest}"`);
    }
  } catch (error) {
    // Bad content is dropped; a broken or cancelled download is kept to resume.
    if (error instanceof DigestMismatchError || error instanceof InvalidError) writer?.abort();
    else writer?.keep();
    if (tree !== undefined) store.layers.discard(tree);
    await source.cancel().catch(() => {});
    throw error;
  }
  if (!haveTree) emit({ id, status: "Extracting", current: total, total });
  emit({ id, status: "Pull complete" });
  return {
    descriptor,
    info: { chainId: job.chainId, diffId: job.diffId, size },
    ...(blob !== undefined ? { blob } : {}),
    ...(tree !== undefined ? { tree } : {}),
  };
}

/**
 * Passes `remote` through while writing every chunk to `writer`; `rest`
 * reads what is left once the extractor stops (bytes past the tar's end).
 */
function tee(
  remote: ReadableStream<Uint8Array>,
  writer: { write(chunk: Uint8Array): void },
  signal: AbortSignal,
  onEnd: () => void,
): { stream: ReadableStream<Uint8Array>; rest: () => Promise<void> } {
  const reader = remote.getReader();
  let ended = false;
  const next = async (): Promise<Uint8Array | undefined> => {
    signal.throwIfAborted();
    const { done, value } = await reader.read();
    if (done) {
      if (!ended) onEnd();
      ended = true;
      return undefined;
    }
    writer.write(value);
    return value;
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const value = await next();
      if (value === undefined) return controller.close();
      controller.enqueue(value);
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
  const rest = async () => {
    while (!ended && await next() !== undefined) { /* into the blob */ }
  };
  return { stream, rest };
}

/** `first`'s bytes, then `second`'s. */
function concat(
  first: ReadableStream<Uint8Array>,
  second: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  let current = first.getReader();
  let onSecond = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await current.read();
        if (!done) return controller.enqueue(value);
        if (onSecond) return controller.close();
        onSecond = true;
        current = second.getReader();
      }
    },
    async cancel(reason) {
      await current.cancel(reason).catch(() => {});
      if (!onSecond) await second.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
