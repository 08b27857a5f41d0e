/**
 * Drives tar-stream's extractor from a web stream, with back-pressure and
 * one error path.
 *
 * @module
 */
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import type { Readable } from "node:stream";
import { EngineError, InvalidError } from "../errors.ts";
import { keepPaxXattrs, type TarHeader } from "./_pax_xattrs.ts";

/**
 * Handles one entry: consumes or discards `body`, then calls `next`. Errors
 * thrown by the handler itself stop the extraction; errors in its event
 * listeners must be passed to `fail`, as tar-stream would lose them.
 */
export type EntryHandler = (
  header: TarHeader,
  body: Readable,
  next: () => void,
  fail: (error: unknown) => void,
) => void;

/** Options for {@linkcode runExtract}. */
export interface RunExtractOptions {
  /** Names the archive in error messages, e.g. "layer archive". */
  what: string;
  /** Sees every chunk before it is parsed. */
  onChunk?: (chunk: Uint8Array) => void;
}

/**
 * Feeds `stream` to a tar extractor and calls `onEntry` for each entry.
 * A handler that throws, or passes an error to `fail`, stops the extraction
 * and the returned promise rejects with that error unchanged.
 * @throws {InvalidError} for a malformed tar (`Invalid <what>: unexpected end of data`)
 * @throws {EngineError} for a failure of the stream (`Cannot read <what>: ...`)
 */
export async function runExtract(
  stream: ReadableStream<Uint8Array>,
  onEntry: EntryHandler,
  options: RunExtractOptions,
): Promise<void> {
  const extract = tar.extract();
  keepPaxXattrs(extract);
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    extract.destroy(error as Error);
  };
  // Our own failures are recorded before `destroy`; anything else is tar-stream's.
  extract.on("error", (error: Error) => failure ??= invalid(options.what, error));
  extract.on("entry", (header: TarHeader, body: Readable, next: () => void) => {
    body.on("error", () => {}); // reported through `extract`
    try {
      onEntry(header, body, next, fail);
    } catch (error) {
      fail(error);
    }
  });
  const closed = new Promise((resolve) => extract.once("close", resolve));
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      // A handler may have failed while we waited (tar-stream parses on later ticks).
      if (done || failure !== undefined) break;
      options.onChunk?.(value);
      if (!extract.write(value)) await drained(extract, closed);
    }
    if (failure === undefined) extract.end();
  } catch (error) {
    fail(sourceError(options.what, error));
  }
  await closed;
  if (failure === undefined) return;
  await reader.cancel().catch(() => {});
  throw failure;
}

/** Waits for 'drain', or for `closed` after a failure, so the feeding loop cannot hang. */
async function drained(extract: tar.Extract, closed: Promise<unknown>): Promise<void> {
  let done!: () => void;
  const drain = new Promise<void>((resolve) => extract.once("drain", done = resolve));
  try {
    await Promise.race([drain, closed]);
  } finally {
    extract.off("drain", done);
  }
}

function invalid(what: string, error: unknown): InvalidError {
  const prefix = `Invalid ${what}`;
  if (error instanceof InvalidError && error.message.startsWith(prefix)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new InvalidError(`${prefix}: ${lowerFirst(reason)}`, { cause: error });
}

/** Rewords bad (compressed) data, and wraps a failure of the source itself. */
function sourceError(what: string, error: unknown): EngineError {
  if (error instanceof InvalidError) return invalid(what, error);
  if (error instanceof EngineError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new EngineError(`Cannot read ${what}: ${reason}`, { cause: error });
}

/** Lower-cases the first letter, to nest one message in another. */
export function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
