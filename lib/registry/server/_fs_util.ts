/**
 * Filesystem helpers for {@linkcode FsStorage}: atomic writes through a temp
 * directory, ranged file streams, directory listings and free space.
 *
 * @module
 */
import type { Hasher } from "../../digest.ts";
import type { ByteRange } from "./storage.ts";
import { limitedChunks } from "./_stream.ts";

/** Bytes gathered before each write to disk. */
const WRITE_BUFFER = 1024 * 1024;

/** Writes `data` to a temp file in `tmpDir`, then renames it to `path`. */
export async function writeAtomic(
  tmpDir: string,
  path: string,
  data: Uint8Array | string,
): Promise<void> {
  const tmp = `${tmpDir}/${crypto.randomUUID()}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await mkdirFor(path);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** Creates the parent directory of `path`. */
export async function mkdirFor(path: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
}

/**
 * Writes a stream to an open file, feeding `hasher` with exactly the bytes written.
 * @returns the number of bytes written
 * @throws {RegistryError} SIZE_INVALID (413) past `maxSize`, counting `already` bytes
 */
export async function copyToFile(
  stream: ReadableStream<Uint8Array> | null,
  file: Deno.FsFile,
  options: { hasher?: Hasher | undefined; maxSize?: number | undefined; already?: number },
): Promise<number> {
  // Clients such as skopeo send chunked bodies in pieces of a few KiB: gather
  // them into large writes, and let one write run while the next buffer fills.
  let buf = new Uint8Array(WRITE_BUFFER);
  let spare = new Uint8Array(WRITE_BUFFER);
  let filled = 0;
  let written = 0;
  let pending: Promise<void> = Promise.resolve();
  const flush = async () => {
    await pending;
    const data = buf.subarray(0, filled);
    options.hasher?.update(data);
    [buf, spare] = [spare, buf];
    filled = 0;
    pending = (async () => {
      let off = 0;
      while (off < data.byteLength) off += await file.write(data.subarray(off));
      written += data.byteLength;
    })();
  };
  try {
    for await (const chunk of limitedChunks(stream, options.maxSize, options.already)) {
      let off = 0;
      while (off < chunk.byteLength) {
        const n = Math.min(chunk.byteLength - off, buf.byteLength - filled);
        buf.set(chunk.subarray(off, off + n), filled);
        filled += n;
        off += n;
        if (filled === buf.byteLength) await flush();
      }
    }
    if (filled > 0) await flush();
  } finally {
    // Never leave a write running on a file the caller is about to truncate or close.
    await pending.catch(() => {});
  }
  await pending;
  return written;
}

/** Streams `path`, or the inclusive `range` of it; the file closes when the stream ends. */
export async function fileStream(
  path: string,
  range?: ByteRange,
): Promise<ReadableStream<Uint8Array>> {
  const file = await Deno.open(path);
  if (range === undefined) return file.readable;
  await file.seek(range.start, Deno.SeekMode.Start);
  let left = range.end - range.start + 1;
  const close = () => {
    try {
      file.close();
    } catch { /* already closed */ }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (left <= 0) {
        close();
        controller.close();
        return;
      }
      const buf = new Uint8Array(Math.min(left, 256 * 1024));
      const n = await file.read(buf);
      if (n === null) {
        close();
        controller.error(new Error(`Unexpected end of "${path}"`));
        return;
      }
      left -= n;
      controller.enqueue(buf.subarray(0, n));
    },
    cancel: close,
  });
}

/** Names in a directory, or none when it does not exist. */
export async function listNames(dir: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) out.push(entry);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out;
}

/** `Deno.stat`, or undefined when the path does not exist. */
export async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
}

/** Removes `path`; returns false when it did not exist. */
export async function removeIfExists(path: string, recursive = false): Promise<boolean> {
  try {
    await Deno.remove(path, { recursive });
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Bytes available to unprivileged writers on the filesystem of `dir` (`df`), or undefined. */
export async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("df", {
      args: ["-B1", "--output=avail", dir],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return undefined;
    const value = Number(new TextDecoder().decode(out.stdout).trim().split("\n").pop());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
