/**
 * Writing a tar of regular files, such as a `docker save` archive.
 *
 * @module
 */
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { Buffer } from "node:buffer";
import type { Writable } from "node:stream";

/** One file for {@linkcode packFiles}. */
export interface PackEntry {
  /** Path inside the archive, e.g. `blobs/sha256/<hex>`. */
  name: string;
  /** Exact size of `body` in bytes. */
  size: number;
  /** Permission bits. @default 0o644 */
  mode?: number;
  /** Modification time. @default new Date(0), so that archives are reproducible */
  mtime?: Date;
  body: ReadableStream<Uint8Array> | Uint8Array;
}

const EPOCH = new Date(0);

/**
 * Streams a tar holding `entries` as regular files, in order. Bodies are read
 * only as fast as the returned stream is consumed.
 * @param entries the files; a body with more or fewer bytes than `size` errors the stream
 * @returns the tar bytes; cancelling it stops reading `entries`
 * @throws {RangeError} through the stream, when a body's length differs from its size
 */
export function packFiles(entries: AsyncIterable<PackEntry>): ReadableStream<Uint8Array> {
  return tarStream((pack, isOpen) => writeEntries(pack, entries, isOpen));
}

/**
 * A tar-stream pack as a web stream with back-pressure: `write` adds the
 * entries (checking `isOpen` between them) and the archive is finalized
 * when it resolves; an error from it or from the pack errors the stream, and
 * cancelling the stream stops the pack.
 */
export function tarStream(
  write: (pack: tar.Pack, isOpen: () => boolean) => Promise<void>,
): ReadableStream<Uint8Array> {
  const pack = tar.pack();
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      pack.on("data", (chunk: Uint8Array) => {
        if (!open) return;
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 0) <= 0) pack.pause();
      });
      pack.on("end", () => {
        if (open) controller.close();
        open = false;
      });
      const fail = (error: unknown) => {
        if (open) controller.error(error);
        open = false;
        pack.destroy();
      };
      pack.on("error", fail);
      write(pack, () => open).then(() => open && pack.finalize(), fail);
    },
    pull() {
      pack.resume();
    },
    cancel() {
      open = false;
      pack.destroy();
    },
  }, { highWaterMark: 16 });
}

async function writeEntries(
  pack: tar.Pack,
  entries: AsyncIterable<PackEntry>,
  isOpen: () => boolean,
): Promise<void> {
  for await (const entry of entries) {
    if (!isOpen()) return;
    await writeEntry(pack, entry, isOpen);
  }
}

async function writeEntry(pack: tar.Pack, entry: PackEntry, isOpen: () => boolean): Promise<void> {
  let sink!: Writable;
  const done = new Promise<void>((resolve, reject) => {
    sink = pack.entry({
      name: entry.name,
      type: "file",
      size: entry.size,
      mode: entry.mode ?? 0o644,
      mtime: entry.mtime ?? EPOCH,
    }, (error) => error ? reject(error) : resolve());
  });
  done.catch(() => {}); // awaited below; a failure while writing surfaces there too
  let written = 0;
  const write = async (chunk: Uint8Array) => {
    written += chunk.byteLength;
    if (written > entry.size) throw sizeError(entry, written);
    // A Buffer view, because tar-stream copies anything that is not a Buffer.
    if (!sink.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
      await drainOrClose(sink);
    }
  };
  if (entry.body instanceof Uint8Array) {
    await write(entry.body);
  } else {
    const reader = entry.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!isOpen()) return;
        await write(value);
      }
    } catch (error) {
      await reader.cancel().catch(() => {});
      throw error;
    }
  }
  if (written !== entry.size) throw sizeError(entry, written);
  sink.end();
  await done;
}

function sizeError(entry: PackEntry, written: number): RangeError {
  const actual = written > entry.size ? `more than ${entry.size}` : `${written}`;
  return new RangeError(
    `Cannot add "${entry.name}" to the archive: body has ${actual} bytes, expected ${entry.size}`,
  );
}

function drainOrClose(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (sink.destroyed) return resolve();
    const done = () => {
      sink.off("drain", done);
      sink.off("close", done);
      resolve();
    };
    sink.on("drain", done);
    sink.on("close", done);
  });
}
