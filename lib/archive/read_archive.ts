/**
 * Reading the members of a plain tar, such as a `docker save` archive.
 *
 * @module
 */
import type { Readable } from "node:stream";
import { cleanName } from "./clean_name.ts";
import { runExtract } from "./_run_extract.ts";
import { paceGc } from "./_gc_pacer.ts";

/** One member of an archive, as {@linkcode readArchive} passes it. */
export interface ArchiveEntry {
  /** The cleaned name: relative, without `.`, `..` or empty components. */
  name: string;
  /** tar-stream's type: `file`, `directory`, `symlink`, `link`, ... */
  type: string;
  /** Size of the body in bytes. */
  size: number;
  /** Target of a symlink or hardlink, as stored (not cleaned); `""` otherwise. */
  linkname: string;
  /** The member's content; what the callback leaves unread is discarded. */
  body: ReadableStream<Uint8Array>;
}

/**
 * Calls `onEntry` for each member of a plain (uncompressed) tar, one at a time.
 * @param source the tar bytes; cancelled on failure
 * @param onEntry awaited before the next member is read; may read `body` or not
 * @throws {InvalidError} for a malformed tar (`Invalid archive: ...`)
 * @throws {EngineError} whatever `onEntry` or `source` throws, if it is one
 */
export async function readArchive(
  source: ReadableStream<Uint8Array>,
  onEntry: (entry: ArchiveEntry) => Promise<void>,
): Promise<void> {
  await runExtract(source, (header, body, next, fail) => {
    // tar-stream gives a directory no body, whatever its size field says.
    const isDir = header.type === "directory";
    const { stream, discard } = isDir ? emptyBody() : webBody(body);
    onEntry({
      name: cleanName(header.name),
      type: header.type ?? "unknown",
      size: isDir ? 0 : header.size ?? 0,
      linkname: header.linkname ?? "",
      body: stream,
    }).then(() => {
      discard();
      next();
    }, fail);
  }, { what: "archive", onChunk: (chunk) => paceGc(chunk.byteLength) });
}

/** Adapts an entry's body to a web stream that can be discarded once the callback returns. */
function webBody(body: Readable): { stream: ReadableStream<Uint8Array>; discard: () => void } {
  let open = true;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull() {
      body.resume();
    },
    cancel() {
      open = false;
      body.resume();
    },
  }, { highWaterMark: 2 });
  body.on("data", (chunk: Uint8Array) => {
    if (!open) return;
    controller.enqueue(chunk);
    if ((controller.desiredSize ?? 0) <= 0) body.pause();
  });
  body.on("end", () => {
    if (open) controller.close();
    open = false;
  });
  // After the callback, whatever is left flows into the ignoring 'data' listener.
  const discard = () => {
    if (open) {
      open = false;
      controller.error(new Error("Archive entry body read after its callback returned"));
    }
    body.resume();
  };
  return { stream, discard };
}

function emptyBody(): { stream: ReadableStream<Uint8Array>; discard: () => void } {
  return { stream: new ReadableStream({ start: (c) => c.close() }), discard: () => {} };
}
