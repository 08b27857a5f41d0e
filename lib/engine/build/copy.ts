/**
 * COPY and ADD as layers: the tar is written straight from the source
 * entries (the build context, or a stage's/image's file system for
 * `--from`), with `--chown`/`--chmod` applied, parent directories the image
 * lacks made 0755 (those it has keep their own metadata, so the layer does
 * not change them), local tar archives of ADD unpacked into the
 * destination, and ADD's URLs fetched (and `--checksum` checked).
 *
 * @module
 */
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { Buffer } from "node:buffer";
import type { Writable } from "node:stream";
import { type Digest, Hasher, loadNativeSha256 } from "../../digest.ts";
import { EngineError, InvalidError } from "../../errors.ts";
import { decompress, tarStream } from "../../archive/mod.ts";
import { type BuildContext, type ContextEntry, lookup } from "../../build/context/mod.ts";

/** One entry of a layer tar. */
export interface LayerFile {
  /** Absolute, cleaned path in the image. */
  path: string;
  type: "file" | "directory" | "symlink" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkTarget: string;
  size: number;
  body?: () => Promise<ReadableStream<Uint8Array> | Uint8Array>;
}

/** Owner override of `--chown`. */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Parses `--chown=USER[:GROUP]` with the image's `/etc/passwd` and `/etc/group`.
 * @throws {EngineError} Docker's `unable to find user x` / `unable to find group x`
 */
export async function resolveChown(spec: string, view: BuildContext): Promise<Owner> {
  const [user = "", group] = spec.split(":", 2);
  const table = async (path: string) => {
    const entry = lookup(view, path, true);
    if (entry === undefined || entry.type !== "file") return [];
    const text = new TextDecoder().decode(await view.readFile(entry.path));
    return text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split(":"));
  };
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(user)) {
    uid = Number(user);
    if (group === undefined) gid = uid;
  } else {
    const hit = (await table("etc/passwd")).find((p) => p[0] === user);
    if (hit === undefined) {
      throw new EngineError(
        `unable to convert uid/gid chown string to host mapping: can't find uid for user ${user}: no such user: ${user}`,
        { exitCode: 1 },
      );
    }
    uid = Number(hit[2]);
    if (group === undefined) gid = Number(hit[3]);
  }
  if (gid === undefined) {
    if (/^\d+$/.test(group!)) gid = Number(group);
    else {
      const hit = (await table("etc/group")).find((g) => g[0] === group);
      if (hit === undefined) {
        throw new EngineError(
          `unable to convert uid/gid chown string to host mapping: can't find gid for group ${group}: no such group: ${group}`,
          { exitCode: 1 },
        );
      }
      gid = Number(hit[2]);
    }
  }
  return { uid, gid };
}

/** Parses `--chmod=0755`. @throws {InvalidError} for anything but octal digits */
export function parseChmod(spec: string): number {
  if (!/^[0-7]{1,4}$/.test(spec)) {
    throw new InvalidError(`invalid chmod parameter: ${spec}`);
  }
  return parseInt(spec, 8);
}

/** Layer entries for the items of a COPY/ADD from a context (or a stage's file system). */
export function filesFromItems(
  source: BuildContext,
  items: readonly { entry: ContextEntry; dest: string }[],
  options: { owner?: Owner; keepOwner: boolean; chmod?: number },
): LayerFile[] {
  const out: LayerFile[] = [];
  for (const { entry, dest } of items) {
    if (
      entry.type !== "file" && entry.type !== "directory" && entry.type !== "symlink" &&
      entry.type !== "fifo"
    ) continue;
    const owner = options.owner ??
      (options.keepOwner ? { uid: entry.uid, gid: entry.gid } : { uid: 0, gid: 0 });
    out.push({
      path: dest,
      type: entry.type,
      mode: entry.type === "symlink" ? 0o777 : options.chmod ?? entry.mode,
      uid: owner.uid,
      gid: owner.gid,
      mtime: entry.mtime,
      linkTarget: entry.linkTarget,
      size: entry.size,
      ...(entry.type === "file" ? { body: () => source.open(entry.path) } : {}),
    });
  }
  return out;
}

/**
 * Adds the parent directories of every entry: those the image has, with
 * their metadata (an overlay's upper directory decides its attributes), the
 * missing ones 0755 with `owner`. Later entries of one path win; the result
 * is sorted, parents first.
 */
export function withParents(
  files: readonly LayerFile[],
  image: BuildContext,
  owner: Owner,
): LayerFile[] {
  const byPath = new Map<string, LayerFile>();
  for (const file of files) byPath.set(file.path, file);
  for (const file of files) {
    const parts = file.path.split("/").filter((p) => p !== "");
    for (let i = 1; i < parts.length; i++) {
      const path = `/${parts.slice(0, i).join("/")}`;
      if (byPath.has(path)) continue;
      const have = lookup(image, path.slice(1), true);
      if (have !== undefined && have.type !== "directory") {
        throw new EngineError(`cannot copy to non-directory: ${path}`, { exitCode: 1 });
      }
      byPath.set(path, {
        path,
        type: "directory",
        mode: have?.mode ?? 0o755,
        uid: have?.uid ?? owner.uid,
        gid: have?.gid ?? owner.gid,
        mtime: have?.mtime ?? new Date(),
        linkTarget: "",
        size: 0,
      });
    }
  }
  return [...byPath.values()].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** Whether `bytes` (at least 512) start with a tar header (its checksum matches). */
function isTarHeader(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 512) return false;
  const field = new TextDecoder().decode(bytes.subarray(148, 156)).replace(/[\0 ]+/g, "");
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : bytes[i]!;
  return sum === parseInt(field, 8);
}

/** Magic numbers of the compressions Docker unpacks but berth cannot (yet) inflate. */
const OTHER_ARCHIVES: [string, number[]][] = [
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
];

/**
 * ADD of a local file: when it is a tar (plain, gzip or zstd), its entries
 * unpacked under `destDir`; undefined when it is no archive (then it is
 * copied as a file).
 * @throws {EngineError} for bzip2 or xz archives
 */
export async function unpackArchive(
  bytes: Uint8Array,
  destDir: string,
  owner: Owner | undefined,
): Promise<LayerFile[] | undefined> {
  for (const [name, magic] of OTHER_ARCHIVES) {
    if (bytes.byteLength >= magic.length && magic.every((b, i) => bytes[i] === b)) {
      throw new EngineError(`ADD of a ${name} archive is not supported by berth`, { exitCode: 1 });
    }
  }
  let plain: Uint8Array;
  try {
    const { stream } = await decompress(ReadableStream.from([bytes]));
    plain = new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return undefined;
  }
  if (!isTarHeader(plain)) return undefined;
  const out: LayerFile[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (header, stream, next) => {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: Uint8Array) => chunks.push(new Uint8Array(c)));
      stream.on("end", () => {
        const name = cleanArchiveName(header.name);
        const type = header.type === "file" || header.type === "contiguous-file"
          ? "file"
          : header.type === "directory"
          ? "directory"
          : header.type === "symlink"
          ? "symlink"
          : header.type === "fifo"
          ? "fifo"
          : undefined;
        if (name !== "" && type !== undefined) {
          const body = concat(chunks);
          out.push({
            path: destDir === "/" ? `/${name}` : `${destDir}/${name}`,
            type,
            mode: (header.mode ?? 0o644) & 0o7777,
            uid: owner?.uid ?? header.uid ?? 0,
            gid: owner?.gid ?? header.gid ?? 0,
            mtime: header.mtime ?? new Date(0),
            linkTarget: header.linkname ?? "",
            size: type === "file" ? body.byteLength : 0,
            ...(type === "file" ? { body: () => Promise.resolve(body) } : {}),
          });
        }
        next();
      });
      stream.resume();
    });
    extract.on("finish", resolve);
    extract.on(
      "error",
      (e: unknown) => reject(new EngineError(`Cannot unpack the archive: ${e}`, { exitCode: 1 })),
    );
  });
  extract.end(Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength));
  await done;
  return out;
}

/** An archive member's name inside the destination: no leading `/`, no `..` escaping it. */
function cleanArchiveName(name: string): string {
  const out: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const size = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** What {@linkcode fetchUrl} downloaded. */
export interface Fetched {
  /** The file name (from the URL's last path segment). */
  name: string;
  bytes: Uint8Array;
  digest: Digest;
  mtime: Date;
}

/**
 * Downloads ADD's URL, checking `--checksum` when given.
 * @throws {EngineError} for an unreachable URL, a non-2xx status, or a checksum mismatch
 */
export async function fetchUrl(url: string, checksum?: string): Promise<Fetched> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new EngineError(`failed to load cache key: Get "${url}": ${(error as Error).message}`, {
      exitCode: 1,
      cause: error,
    });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new EngineError(
      `failed to load cache key: invalid response status ${response.status}`,
      { exitCode: 1 },
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  await loadNativeSha256();
  const hasher = new Hasher();
  hasher.update(bytes);
  const digest = hasher.digest();
  if (checksum !== undefined && checksum !== digest) {
    throw new EngineError(
      `failed to load cache key: digest mismatch ${digest}: expected ${checksum}`,
      { exitCode: 1 },
    );
  }
  const path = new URL(url).pathname;
  const name = path.slice(path.lastIndexOf("/") + 1) || "__unnamed__";
  const modified = response.headers.get("last-modified");
  return { name, bytes, digest, mtime: modified ? new Date(modified) : new Date(0) };
}

/** Streams a layer tar of `files` (in order), reading each body only when its turn comes. */
export function packLayer(files: readonly LayerFile[]): ReadableStream<Uint8Array> {
  return tarStream(async (pack, isOpen) => {
    for (const file of files) {
      if (!isOpen()) return;
      await writeEntry(pack, file);
    }
  });
}

async function writeEntry(pack: tar.Pack, file: LayerFile): Promise<void> {
  const name = file.path.replace(/^\/+/, "") + (file.type === "directory" ? "/" : "");
  const header: tar.Headers = {
    name,
    type: file.type,
    mode: file.mode,
    uid: file.uid,
    gid: file.gid,
    mtime: file.mtime,
    size: file.type === "file" ? file.size : 0,
    ...(file.type === "symlink" ? { linkname: file.linkTarget } : {}),
  };
  let sink!: Writable;
  const done = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (error) => error ? reject(error) : resolve());
  });
  done.catch(() => {});
  if (file.type === "file" && file.body !== undefined) {
    const body = await file.body();
    let written = 0;
    const write = async (chunk: Uint8Array) => {
      written += chunk.byteLength;
      if (written > file.size) throw new EngineError(`${file.path} changed while it was copied`);
      if (!sink.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        await new Promise<void>((resolve) => {
          const go = () => {
            sink.off("drain", go);
            sink.off("close", go);
            resolve();
          };
          sink.on("drain", go);
          sink.on("close", go);
        });
      }
    };
    if (body instanceof Uint8Array) await write(body);
    else for await (const chunk of body) await write(chunk);
    if (written !== file.size) throw new EngineError(`${file.path} changed while it was copied`);
  }
  sink.end();
  await done;
}
