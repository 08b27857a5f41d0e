/**
 * Writing a tar of a directory tree (or one file) with everything a file
 * system keeps: types, modes, owners, times, hardlinks and xattrs, as
 * `docker cp` and `docker export` do.
 *
 * @module
 */
import { lgetxattr, llistxattr } from "../../ffi/fs.ts";

/** Options for {@linkcode packDir}. */
export interface PackDirOptions {
  /**
   * Name of `source` in the archive: `etc` gives `etc/`, `etc/passwd`, ...
   * `""` leaves the root out and names its children `passwd`, ... (a directory only).
   * @default the base name of `source`
   */
  name?: string;
  /** Archive what a symlink at `source` points to, not the link. @default false */
  followLink?: boolean;
  /** Record this owner for every entry instead of the files' own. @default undefined */
  owner?: { uid: number; gid: number };
}

const BLOCK = 512;
const CHUNK = 64 * 1024;
const encoder = new TextEncoder();

/** One header's worth of metadata. @internal for pack_upper.ts */
export interface Header {
  name: string;
  type: "0" | "1" | "2" | "3" | "4" | "5" | "6";
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: [string, Uint8Array][];
}

/**
 * Streams a tar of `source`: a directory recursively (children sorted by
 * name, never following symlinks below it), or a single file, symlink,
 * device or fifo. Sockets are left out. File bodies are read as the stream
 * is consumed; a file that shrinks or grows meanwhile is padded or cut to
 * the size first seen, so the archive stays well-formed.
 * @param source a host path
 * @returns the tar bytes; cancelling it closes any open file
 * @throws {Deno.errors.NotFound} through the stream, when `source` is missing
 * @throws {RangeError} through the stream, for `name: ""` on a non-directory
 */
export function packDir(source: string, options: PackDirOptions = {}): ReadableStream<Uint8Array> {
  return packWith(source, options, {});
}

/**
 * How a caller rewrites {@linkcode packDir}'s walk (pack_upper.ts turns an
 * overlayfs upper dir's whiteouts into OCI ones with these).
 * @internal
 */
export interface PackHooks {
  /**
   * Headers written instead of an entry (no body, no hardlink, no children),
   * or undefined to write it as usual.
   */
  replace?(path: string, info: Deno.FileInfo, header: Header): Header[] | undefined;
  /** Headers written inside a directory, right after it and before its children. */
  within?(path: string, header: Header): Header[];
  /** Leaves an entry (and all below it) out; `name` is its archive name. */
  skip?(name: string): boolean;
}

/** {@linkcode packDir} with {@linkcode PackHooks}. @internal */
export function packWith(
  source: string,
  options: PackDirOptions,
  hooks: PackHooks,
): ReadableStream<Uint8Array> {
  return ReadableStream.from(generate(source, options, hooks));
}

interface Walk {
  options: PackDirOptions;
  hooks: PackHooks;
  /** First archive name of each multiply linked inode, by `dev:ino`. */
  links: Map<string, string>;
}

async function* generate(
  source: string,
  options: PackDirOptions,
  hooks: PackHooks,
): AsyncGenerator<Uint8Array> {
  const info = options.followLink ? await Deno.stat(source) : await Deno.lstat(source);
  const name = options.name ?? baseName(source);
  const walk: Walk = { options, hooks, links: new Map() };
  if (name === "") {
    if (!info.isDirectory) throw new RangeError(`Cannot pack "${source}" without a name`);
    yield* children(source, "", walk);
  } else {
    yield* entry(source, name, info, walk);
  }
  yield new Uint8Array(BLOCK * 2);
}

async function* children(dir: string, prefix: string, walk: Walk): AsyncGenerator<Uint8Array> {
  const names: string[] = [];
  for await (const child of Deno.readDir(dir)) names.push(child.name);
  names.sort();
  for (const child of names) {
    const path = `${dir}/${child}`;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // removed while we walk
      throw error;
    }
    yield* entry(path, prefix === "" ? child : `${prefix}/${child}`, info, walk);
  }
}

async function* entry(
  path: string,
  name: string,
  info: Deno.FileInfo,
  walk: Walk,
): AsyncGenerator<Uint8Array> {
  if (info.isSocket || walk.hooks.skip?.(name)) return;
  const header = await headerOf(path, name, info, walk.options);
  const replaced = walk.hooks.replace?.(path, info, header);
  if (replaced !== undefined) {
    for (const h of replaced) yield encodeHeader(h);
    return;
  }
  // Later names of a multiply linked inode become hardlinks to the first one.
  if (!info.isDirectory && (info.nlink ?? 1) > 1 && info.ino !== null) {
    const key = `${info.dev}:${info.ino}`;
    const first = walk.links.get(key);
    if (first !== undefined) {
      yield encodeHeader({ ...header, type: "1", size: 0, linkname: first });
      return;
    }
    walk.links.set(key, name);
  }
  yield encodeHeader(header);
  if (header.type === "0") yield* body(path, header.size);
  if (info.isDirectory) {
    for (const h of walk.hooks.within?.(path, header) ?? []) yield encodeHeader(h);
    yield* children(path, name, walk);
  }
}

async function headerOf(
  path: string,
  name: string,
  info: Deno.FileInfo,
  options: PackDirOptions,
): Promise<Header> {
  const rdev = info.rdev ?? 0;
  const header: Header = {
    name,
    type: info.isFile
      ? "0"
      : info.isDirectory
      ? "5"
      : info.isSymlink
      ? "2"
      : info.isCharDevice
      ? "3"
      : info.isBlockDevice
      ? "4"
      : "6",
    mode: (info.mode ?? 0o644) & 0o7777,
    uid: options.owner?.uid ?? info.uid ?? 0,
    gid: options.owner?.gid ?? info.gid ?? 0,
    size: info.isFile ? info.size : 0,
    mtime: Math.floor((info.mtime?.getTime() ?? 0) / 1000),
    linkname: info.isSymlink ? await Deno.readLink(path) : "",
    // glibc's major(3)/minor(3).
    devmajor: ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff),
    devminor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff),
    xattrs: readXattrs(path),
  };
  return header;
}

/** Extended attributes, except overlayfs's own (an archive must not carry them). */
function readXattrs(path: string): [string, Uint8Array][] {
  let names: string[];
  try {
    names = llistxattr(path);
  } catch {
    return []; // not supported by this file system
  }
  const out: [string, Uint8Array][] = [];
  for (const name of names.sort()) {
    if (name.startsWith("trusted.overlay.")) continue;
    try {
      const value = lgetxattr(path, name);
      if (value !== undefined) out.push([name, value]);
    } catch {
      // removed meanwhile, or not readable: leave it out
    }
  }
  return out;
}

async function* body(path: string, size: number): AsyncGenerator<Uint8Array> {
  let left = size;
  if (left > 0) {
    const file = await Deno.open(path, { read: true });
    try {
      while (left > 0) {
        const buf = new Uint8Array(Math.min(CHUNK, left));
        const n = await file.read(buf);
        if (n === null) break; // shrank: padded below
        left -= n;
        yield buf.subarray(0, n);
      }
    } finally {
      file.close();
    }
  }
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if (left + pad > 0) yield new Uint8Array(left + pad);
}

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** A ustar header, preceded by a PAX header for what ustar cannot hold. */
function encodeHeader(h: Header): Uint8Array {
  const pax: [string, Uint8Array][] = [];
  const text = (key: string, value: string) => pax.push([key, encoder.encode(value)]);
  const name = h.type === "5" ? `${h.name}/` : h.name;
  const split = splitName(name);
  if (split === undefined) text("path", name);
  if (!fits(h.linkname, 100)) text("linkpath", h.linkname);
  if (h.uid > MAX_OCTAL_7) text("uid", String(h.uid));
  if (h.gid > MAX_OCTAL_7) text("gid", String(h.gid));
  if (h.size > MAX_OCTAL_11) text("size", String(h.size));
  if (h.mtime < 0 || h.mtime > MAX_OCTAL_11) text("mtime", String(h.mtime));
  for (const [key, value] of h.xattrs) pax.push([`SCHILY.xattr.${key}`, value]);
  const block = ustar({
    name: split?.[1] ?? asciiPrefix(name, 100),
    prefix: split?.[0] ?? "",
    type: h.type,
    mode: h.mode,
    uid: h.uid > MAX_OCTAL_7 ? 0 : h.uid,
    gid: h.gid > MAX_OCTAL_7 ? 0 : h.gid,
    size: h.size > MAX_OCTAL_11 ? 0 : h.size,
    mtime: h.mtime < 0 || h.mtime > MAX_OCTAL_11 ? 0 : h.mtime,
    linkname: fits(h.linkname, 100) ? h.linkname : asciiPrefix(h.linkname, 100),
    devmajor: h.devmajor > MAX_OCTAL_7 ? 0 : h.devmajor,
    devminor: h.devminor > MAX_OCTAL_7 ? 0 : h.devminor,
  });
  if (pax.length === 0) return block;
  const records = paxRecords(pax);
  const paxName = asciiPrefix(`PaxHeaders.0/${baseName(h.name)}`, 100);
  const head = ustar({
    name: paxName,
    prefix: "",
    type: "x",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: records.byteLength,
    mtime: 0,
    linkname: "",
    devmajor: 0,
    devminor: 0,
  });
  const padded = Math.ceil(records.byteLength / BLOCK) * BLOCK;
  const out = new Uint8Array(BLOCK + padded + BLOCK);
  out.set(head, 0);
  out.set(records, BLOCK);
  out.set(block, BLOCK + padded);
  return out;
}

/** `"<length> <key>=<value>\n"` records, the length counting the whole record. */
function paxRecords(records: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [key, value] of records) {
    const rest = encoder.encode(` ${key}=`).byteLength + value.byteLength + 1;
    let length = rest + String(rest).length;
    if (String(length).length !== String(rest).length) length = rest + String(length).length;
    const record = new Uint8Array(length);
    record.set(encoder.encode(`${length} ${key}=`), 0);
    record.set(value, length - value.byteLength - 1);
    record[length - 1] = 0x0a;
    parts.push(record);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

interface UstarFields {
  name: string;
  prefix: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function ustar(f: UstarFields): Uint8Array {
  const buf = new Uint8Array(BLOCK);
  const put = (offset: number, value: string) => buf.set(encoder.encode(value), offset);
  const octal = (offset: number, width: number, value: number) =>
    put(offset, value.toString(8).padStart(width - 1, "0"));
  put(0, f.name);
  octal(100, 8, f.mode);
  octal(108, 8, f.uid);
  octal(116, 8, f.gid);
  octal(124, 12, f.size);
  octal(136, 12, f.mtime);
  put(148, "        ");
  put(156, f.type);
  put(157, f.linkname);
  put(257, "ustar\u000000");
  octal(329, 8, f.devmajor);
  octal(337, 8, f.devminor);
  put(345, f.prefix);
  let sum = 0;
  for (const byte of buf) sum += byte;
  put(148, `${sum.toString(8).padStart(6, "0")}\u0000 `);
  return buf;
}

/** ustar's name and prefix fields for `name`, or undefined when it needs PAX. */
function splitName(name: string): [string, string] | undefined {
  if (!fits(name, 255)) return undefined;
  if (name.length <= 100) return ["", name];
  // The prefix ends at a slash; a directory's trailing slash stays in the name.
  for (let i = name.indexOf("/"); i >= 0 && i <= 155; i = name.indexOf("/", i + 1)) {
    if (name.length - i - 1 <= 100 && i > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

/** True for printable ASCII no longer than `max` bytes. */
function fits(value: string, max: number): boolean {
  return value.length <= max && /^[\x20-\x7e]*$/.test(value);
}

function asciiPrefix(value: string, max: number): string {
  return value.replace(/[^\x20-\x7e]/g, "_").slice(0, max);
}

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
