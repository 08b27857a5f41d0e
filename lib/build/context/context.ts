/**
 * The build context: the files a build may COPY/ADD, read once from a
 * directory or from a tar stream (`build -`), with `.dockerignore` applied.
 *
 * @module
 */
// @ts-types="@types/tar-stream"
import type tar from "tar-stream";
import type { Readable } from "node:stream";
import { EngineError, InvalidError, NotFoundError } from "../../errors.ts";
import { type Digest, Hasher, loadNativeSha256 } from "../../digest.ts";
import { cleanName } from "../../archive/clean_name.ts";
import { makeTempDir } from "../../store/tmp.ts";
import { IgnoreMatcher, type MatchState, parseIgnoreFile } from "./ignore.ts";

/** The kind of a context entry. */
export type EntryType =
  | "file"
  | "directory"
  | "symlink"
  | "fifo"
  | "char-device"
  | "block-device"
  | "socket";

/** One file, directory or link of a context. */
export interface ContextEntry {
  /** Relative slash path, without `.`/`..`; `""` for the context root. */
  path: string;
  type: EntryType;
  /** Permission bits, with setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Size in bytes of a file; 0 otherwise. */
  size: number;
  mtime: Date;
  /** Target of a symlink, as stored; `""` otherwise. */
  linkTarget: string;
}

/** Options for {@linkcode openDirContext} and {@linkcode readTarContext}. */
export interface ContextOptions {
  /**
   * Exclude patterns to use instead of the context's `.dockerignore` (e.g. a
   * `Dockerfile.dockerignore`), as {@linkcode parseIgnoreFile} returns them.
   */
  excludes?: readonly string[];
  /**
   * The Dockerfile's path in the context; it is kept even when ignored, as
   * Docker sends it (`.dockerignore` is always kept too).
   * @default "Dockerfile"
   */
  dockerfile?: string;
}

/** Options for {@linkcode readTarContext}. */
export interface TarContextOptions extends ContextOptions {
  /** Directory under which file bodies are spilled to a temporary directory. */
  tmpRoot: string;
  /** Bodies up to this size stay in memory while the total allows. @default 65536 */
  inlineLimit?: number;
  /** Total bytes kept in memory. @default 16 MiB */
  memoryBudget?: number;
}

/** Where a file's bytes are. */
type Body = { kind: "disk"; path: string } | { kind: "memory"; bytes: Uint8Array };

/**
 * A read-only view of a build context: its entries and their contents.
 * Call {@linkcode BuildContext.close} when done, to remove spilled files.
 */
export class BuildContext {
  /** The context root directory's own entry (path `""`). */
  readonly root: ContextEntry;
  readonly #entries: ContextEntry[];
  readonly #byPath = new Map<string, ContextEntry>();
  readonly #bodies: Map<string, Body>;
  readonly #tmpDir: string | undefined;
  #children: Map<string, ContextEntry[]> | undefined;
  readonly #digests = new Map<string, Promise<Digest>>();

  /** Use {@linkcode openDirContext} or {@linkcode readTarContext}. */
  constructor(
    root: ContextEntry,
    entries: ContextEntry[],
    bodies: Map<string, Body>,
    tmpDir?: string,
  ) {
    this.root = root;
    this.#entries = entries.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    for (const entry of entries) this.#byPath.set(entry.path, entry);
    this.#byPath.set("", root);
    this.#bodies = bodies;
    this.#tmpDir = tmpDir;
  }

  /** Every entry except the root, sorted by path (parents before children). */
  entries(): readonly ContextEntry[] {
    return this.#entries;
  }

  /** The entry at a relative path (`""` is the root), without following symlinks. */
  get(path: string): ContextEntry | undefined {
    return this.#byPath.get(path);
  }

  /** The entries directly inside directory `path`, sorted by name. */
  children(path: string): readonly ContextEntry[] {
    if (this.#children === undefined) {
      this.#children = new Map();
      for (const entry of this.#entries) {
        const parent = parentOf(entry.path);
        let list = this.#children.get(parent);
        if (list === undefined) this.#children.set(parent, list = []);
        list.push(entry);
      }
    }
    return this.#children.get(path) ?? [];
  }

  /**
   * Opens a file's content.
   * @throws {NotFoundError} when `path` is not a file of the context
   */
  async open(path: string): Promise<ReadableStream<Uint8Array>> {
    const body = this.#body(path);
    if (body.kind === "memory") {
      const bytes = body.bytes;
      return new ReadableStream({
        start(controller) {
          if (bytes.byteLength > 0) controller.enqueue(bytes);
          controller.close();
        },
      });
    }
    return (await Deno.open(body.path)).readable;
  }

  /** A file's whole content. */
  async readFile(path: string): Promise<Uint8Array> {
    const body = this.#body(path);
    return body.kind === "memory" ? body.bytes : await Deno.readFile(body.path);
  }

  /** The sha256 of a file's content, computed once. */
  fileDigest(path: string): Promise<Digest> {
    let digest = this.#digests.get(path);
    if (digest === undefined) {
      digest = this.#hash(path);
      this.#digests.set(path, digest);
    }
    return digest;
  }

  async #hash(path: string): Promise<Digest> {
    // A file up to NATIVE_HASH_FROM is read whole and hashed by WebCrypto (native,
    // nothing to load); a larger one is streamed through node:crypto, which costs
    // ~20 ms to load, so memory stays bounded.
    if ((this.get(path)?.size ?? 0) <= NATIVE_HASH_FROM) {
      const bytes = await this.readFile(path);
      const hash = new Uint8Array(
        await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
      );
      return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    }
    await loadNativeSha256();
    const hasher = new Hasher();
    for await (const chunk of await this.open(path)) hasher.update(chunk);
    return hasher.digest();
  }

  /** Removes the files spilled from a tar stream; the context is unusable afterwards. */
  async close(): Promise<void> {
    if (this.#tmpDir !== undefined) await Deno.remove(this.#tmpDir, { recursive: true });
  }

  #body(path: string): Body {
    const body = this.#bodies.get(path);
    if (body === undefined) throw new NotFoundError(`No file "${path}" in the build context`);
    return body;
  }
}

/** File size above which a context digest streams through node:crypto. */
const NATIVE_HASH_FROM = 4 << 20;

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** Exclude patterns plus exceptions for the files Docker always sends. */
function matcherFor(patterns: readonly string[], dockerfile: string): IgnoreMatcher | undefined {
  if (patterns.length === 0) return undefined;
  const keep = [".dockerignore", cleanName(dockerfile)].map((p) =>
    `!${p.replace(/[*?[\]\\]/g, "\\$&")}`
  );
  return new IgnoreMatcher([...patterns, ...keep]);
}

/**
 * Reads a context from a directory: walks it once, honouring `.dockerignore`
 * and never following symlinks (a symlink is an entry, whatever it points to).
 * @param dir the context directory
 * @throws {NotFoundError} `unable to prepare context: path "x" not found`
 * @throws {InvalidError} when `dir` is not a directory, or `.dockerignore` is malformed
 */
export async function openDirContext(
  dir: string,
  options: ContextOptions = {},
): Promise<BuildContext> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new NotFoundError(`unable to prepare context: path "${dir}" not found`);
  }
  if (!info.isDirectory) {
    throw new InvalidError(`unable to prepare context: context must be a directory: ${dir}`);
  }
  const patterns = options.excludes ?? await readIgnore(`${dir}/.dockerignore`);
  const matcher = matcherFor(patterns, options.dockerfile ?? "Dockerfile");
  const entries: ContextEntry[] = [];
  const bodies = new Map<string, Body>();
  await walk(dir, "", matcher, undefined, [], entries, bodies);
  return new BuildContext(entryOf("", info, ""), entries, bodies);
}

async function readIgnore(path: string): Promise<string[]> {
  try {
    return parseIgnoreFile(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/**
 * Adds what is under `rel` to `entries`. `pending` holds excluded parent
 * directories the walk entered for possible exceptions; they are added
 * (before it) once something under them is kept, as Docker does.
 */
async function walk(
  root: string,
  rel: string,
  matcher: IgnoreMatcher | undefined,
  state: MatchState | undefined,
  pending: ContextEntry[],
  entries: ContextEntry[],
  bodies: Map<string, Body>,
): Promise<void> {
  const names: string[] = [];
  for await (const item of Deno.readDir(rel === "" ? root : `${root}/${rel}`)) {
    names.push(item.name);
  }
  names.sort();
  for (const name of names) {
    const path = rel === "" ? name : `${rel}/${name}`;
    const full = `${root}/${path}`;
    const info = await Deno.lstat(full);
    const match = matcher?.match(path, state);
    const entry = entryOf(path, info, info.isSymlink ? await Deno.readLink(full) : "");
    if (match?.excluded) {
      if (entry.type === "directory" && matcher!.mayReinclude(path)) {
        await walk(root, path, matcher, match.state, [...pending, entry], entries, bodies);
      }
      continue;
    }
    entries.push(...pending.splice(0));
    entries.push(entry);
    if (entry.type === "file") bodies.set(path, { kind: "disk", path: full });
    if (entry.type === "directory") {
      await walk(root, path, matcher, match?.state, [], entries, bodies);
    }
  }
}

/** The entry for a file on disk at `path` (relative), from its lstat. */
export function entryOf(path: string, info: Deno.FileInfo, linkTarget: string): ContextEntry {
  return {
    path,
    type: typeOf(info),
    mode: (info.mode ?? 0) & 0o7777,
    uid: info.uid ?? 0,
    gid: info.gid ?? 0,
    size: info.isFile ? info.size : 0,
    mtime: info.mtime ?? new Date(0),
    linkTarget,
  };
}

function typeOf(info: Deno.FileInfo): EntryType {
  if (info.isFile) return "file";
  if (info.isDirectory) return "directory";
  if (info.isSymlink) return "symlink";
  if (info.isFifo) return "fifo";
  if (info.isCharDevice) return "char-device";
  if (info.isBlockDevice) return "block-device";
  return "socket";
}

const TAR_TYPES: Record<string, EntryType> = {
  "file": "file",
  "contiguous-file": "file",
  "directory": "directory",
  "symlink": "symlink",
  "fifo": "fifo",
  "character-device": "char-device",
  "block-device": "block-device",
};

/**
 * Reads a context from a plain tar stream (`build -`). File bodies go to a
 * temporary directory under `tmpRoot` unless small, so memory stays bounded.
 * Missing parent directories are added (mode 0755, owned by root); a hard
 * link becomes a file sharing its target's content; a later member replaces
 * an earlier one; `.dockerignore` in the archive applies as in a directory.
 * @param stream the tar bytes
 * @throws {InvalidError} for a malformed tar or `.dockerignore`, or a hard link to nothing
 */
export async function readTarContext(
  stream: ReadableStream<Uint8Array>,
  options: TarContextOptions,
): Promise<BuildContext> {
  // Named for this process: another berth's store open clears only what dead ones left.
  const tmpDir = makeTempDir(options.tmpRoot, "-context");
  try {
    const { entries, bodies } = await readMembers(stream, tmpDir, options);
    let patterns = options.excludes;
    if (patterns === undefined) {
      const body = entries.get(".dockerignore")?.type === "file"
        ? bodies.get(".dockerignore")
        : undefined;
      patterns = body === undefined ? [] : parseIgnoreFile(new TextDecoder().decode(
        body.kind === "memory" ? body.bytes : await Deno.readFile(body.path),
      ));
    }
    const matcher = matcherFor(patterns, options.dockerfile ?? "Dockerfile");
    const root = entries.get("") ?? implicitDir("");
    entries.delete("");
    const kept = new Map<string, ContextEntry>();
    for (const [path, entry] of entries) {
      if (matcher?.matches(path)) continue;
      kept.set(path, entry);
      // A kept entry brings its (possibly excluded or implicit) parents.
      for (let dir = parentOf(path); dir !== "" && !kept.has(dir); dir = parentOf(dir)) {
        kept.set(dir, entries.get(dir) ?? implicitDir(dir));
      }
    }
    for (const path of bodies.keys()) if (!kept.has(path)) bodies.delete(path);
    return new BuildContext(root, [...kept.values()], bodies, tmpDir);
  } catch (error) {
    await Deno.remove(tmpDir, { recursive: true });
    throw error;
  }
}

/** A directory entry no file system gave (root-owned, 0755): a tar's missing parent, a view's root. */
export function implicitDir(path: string): ContextEntry {
  return {
    path,
    type: "directory",
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: new Date(0),
    linkTarget: "",
  };
}

async function readMembers(
  stream: ReadableStream<Uint8Array>,
  tmpDir: string,
  options: TarContextOptions,
): Promise<{ entries: Map<string, ContextEntry>; bodies: Map<string, Body> }> {
  const inlineLimit = options.inlineLimit ?? 65536;
  let budget = options.memoryBudget ?? 16 << 20;
  const entries = new Map<string, ContextEntry>();
  const bodies = new Map<string, Body>();
  let spilled = 0;
  const onEntry = async (header: tar.Headers, body: Readable) => {
    const path = cleanName(header.name);
    const entry: ContextEntry = {
      path,
      type: TAR_TYPES[header.type ?? "file"] ?? "file",
      mode: (header.mode ?? 0o644) & 0o7777,
      uid: header.uid ?? 0,
      gid: header.gid ?? 0,
      size: 0,
      mtime: header.mtime ?? new Date(0),
      linkTarget: header.type === "symlink" ? header.linkname ?? "" : "",
    };
    // A later member replaces an earlier one, and everything under it.
    if (entries.has(path)) {
      for (const key of entries.keys()) {
        if (key === path || key.startsWith(`${path}/`)) {
          entries.delete(key);
          bodies.delete(key);
        }
      }
    }
    if (header.type === "link") {
      const target = cleanName(header.linkname ?? "");
      const source = bodies.get(target);
      if (source === undefined) {
        throw new InvalidError(
          `Invalid build context: hard link "${path}" to missing "${header.linkname}"`,
        );
      }
      entry.type = "file";
      entry.size = entries.get(target)?.size ?? 0;
      bodies.set(path, source);
    } else if (entry.type === "file") {
      const announced = header.size ?? 0;
      if (announced <= inlineLimit && announced <= budget) {
        const bytes = await collect(body);
        budget -= bytes.byteLength;
        entry.size = bytes.byteLength;
        bodies.set(path, { kind: "memory", bytes });
      } else {
        const file = `${tmpDir}/${spilled++}`;
        entry.size = await spill(body, file);
        bodies.set(path, { kind: "disk", path: file });
      }
    }
    entries.set(path, entry);
  };
  await extract(stream, onEntry);
  return { entries, bodies };
}

/** Reads a small entry's body into memory. */
async function collect(body: Readable): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
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

/** Streams an entry's body to `file`, chunk by chunk, and returns its size. */
async function spill(body: Readable, file: string): Promise<number> {
  const writer = (await Deno.open(file, { write: true, createNew: true })).writable.getWriter();
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      await writer.write(chunk);
      size += chunk.byteLength;
    }
  } finally {
    await writer.close();
  }
  return size;
}

async function extract(
  stream: ReadableStream<Uint8Array>,
  onEntry: (header: tar.Headers, body: Readable) => Promise<void>,
): Promise<void> {
  // Loaded here: a directory context (the usual one) never needs tar-stream.
  const { default: tarStream } = await import("tar-stream");
  const extractor = tarStream.extract();
  let failure: unknown;
  const done = new Promise<void>((resolve) => extractor.once("close", resolve));
  extractor.on("error", (error: Error) => {
    failure ??= new InvalidError(`Invalid build context: ${error.message}`, { cause: error });
  });
  extractor.on("entry", (header: tar.Headers, body: Readable, next: () => void) => {
    onEntry(header, body).then(() => {
      body.resume();
      next();
    }, (error) => {
      failure ??= error;
      extractor.destroy();
    });
  });
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || failure !== undefined) break;
      if (!extractor.write(value)) {
        await new Promise<void>((resolve) => {
          extractor.once("drain", resolve);
          extractor.once("close", resolve);
        });
      }
    }
    if (failure === undefined) extractor.end();
  } catch (error) {
    failure ??= new EngineError(`Cannot read build context: ${String(error)}`, { cause: error });
    extractor.destroy();
  }
  await done;
  if (failure !== undefined) {
    await reader.cancel().catch(() => {});
    throw failure;
  }
}
