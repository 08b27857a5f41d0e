/**
 * Writes layer entries to disk with full metadata, overlayfs whiteouts, and
 * every path confined to the target directory.
 *
 * @module
 */
import { lchown, lsetxattr, lutimes, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../../ffi/fs.ts";
import { ConflictError, InvalidError, SyscallError } from "../errors.ts";
import { cleanName } from "./clean_name.ts";
import { LayerRoot, lstatOrUndefined } from "./_layer_root.ts";

/** One tar entry, already decoded. */
export interface LayerEntry {
  /** Cleaned path relative to the target; `""` is the target itself. */
  path: string;
  /** tar-stream's type name: `file`, `directory`, `symlink`, `link`, ... */
  type: string;
  /** Permission bits, setuid/setgid/sticky included. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, possibly fractional. */
  atime: number;
  mtime: number;
  /** Symlink text, or the hardlink target as named in the archive. */
  linkname: string;
  devmajor: number;
  devminor: number;
  size: number;
  xattrs: Map<string, Uint8Array> | undefined;
}

/** Options for {@linkcode LayerWriter}. */
export interface LayerWriterOptions {
  /**
   * Write a plain copy (`cp`), not an image layer: `.wh.` names are ordinary
   * files, and an entry never replaces a directory with a non-directory or
   * the reverse. `shownAs` names the target in messages (a container path
   * for a copy into a container). @default undefined (an image layer)
   */
  copy?: { shownAs: string };
}

/** Receives the body of a regular file. */
export interface FileSink {
  write(chunk: Uint8Array): void;
  /** Sets the file's metadata once its content is written. */
  close(): void;
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
const YES = new TextEncoder().encode("y");
const EPERM = 1;
const EOPNOTSUPP = 95;

/**
 * Creates entries below a target directory. A later entry replaces an
 * earlier one at the same path, except that a directory over a directory only
 * updates its metadata; directory times are set by {@linkcode finish}, after
 * their content is written.
 */
export class LayerWriter {
  #root: LayerRoot;
  #dirTimes = new Map<string, [number, number]>();
  #file: Deno.FsFile | undefined;
  #copyShownAs: string | undefined;

  constructor(target: string, options: LayerWriterOptions = {}) {
    this.#root = new LayerRoot(target);
    this.#copyShownAs = options.copy?.shownAs;
  }

  /**
   * Writes one entry; for a regular file with content, returns the sink its
   * body must be written to before the next entry.
   * @throws {InvalidError} for an entry that cannot be extracted safely
   * @throws {ConflictError} in copy mode, for an entry whose type does not fit what is in its way
   */
  add(entry: LayerEntry): FileSink | undefined {
    const slash = entry.path.lastIndexOf("/");
    const base = entry.path.slice(slash + 1);
    const parent = this.#root.resolveDir(slash < 0 ? "" : entry.path.slice(0, slash), true)!;
    const copy = this.#copyShownAs !== undefined;
    if (!copy && base.startsWith(WHITEOUT)) return this.#whiteout(parent, base, entry);
    const rel = join(parent, base);
    const abs = this.#root.abs(rel);
    if (rel === "" && entry.type !== "directory") {
      throw new InvalidError(`A ${entry.type} cannot replace the layer root`);
    }
    if (copy) this.#refuseTypeChange(rel, abs, entry);
    switch (entry.type) {
      case "directory":
        return this.#directory(rel, abs, entry);
      case "file":
      case "contiguous-file":
        return this.#regular(rel, abs, entry);
      case "symlink":
        return this.#symlink(rel, abs, entry);
      case "link":
        return this.#hardlink(rel, abs, entry);
      case "character-device":
      case "block-device":
      case "fifo":
        return this.#node(rel, abs, entry);
      default:
        throw new InvalidError(`Unsupported entry type "${entry.type}"`);
    }
  }

  /** Sets directory times, deepest first, once every entry is written. */
  finish(): void {
    const dirs = [...this.#dirTimes].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, [atime, mtime]] of dirs) Deno.utimeSync(this.#root.abs(rel), atime, mtime);
  }

  /** Closes a file left open by a failed extraction. */
  abort(): void {
    try {
      this.#file?.close();
    } catch {
      // already closed
    }
    this.#file = undefined;
  }

  /**
   * Docker's `cp` (NoOverwriteDirNonDir): a copy never deletes a directory
   * that is in its way, nor a file, link or node under a directory of the
   * same name; checked before anything is written at `rel`.
   */
  #refuseTypeChange(rel: string, abs: string, entry: LayerEntry): void {
    const dir = entry.type === "directory";
    if (dir && this.#root.isDir(rel)) return;
    const info = lstatOrUndefined(abs);
    if (info === undefined || info.isDirectory === dir) return;
    const shownAs = this.#copyShownAs!;
    const path = `${shownAs.replace(/\/+$/, "")}/${entry.path}`;
    throw new ConflictError(
      dir
        ? `Cannot overwrite non-directory "${path}" with directory "${shownAs}"`
        : `Cannot overwrite directory "${path}" with non-directory "${shownAs}"`,
    );
  }

  #directory(rel: string, abs: string, entry: LayerEntry): undefined {
    if (!this.#root.isDir(rel)) {
      try {
        Deno.mkdirSync(abs, { mode: 0o700 });
      } catch (error) {
        if (!isExists(error)) throw error;
        if (!Deno.lstatSync(abs).isDirectory) {
          this.#remove(rel);
          Deno.mkdirSync(abs, { mode: 0o700 });
        }
      }
      this.#root.addDir(rel);
    }
    this.#metadata(abs, entry);
    this.#dirTimes.set(rel, [entry.atime, entry.mtime]);
  }

  #regular(rel: string, abs: string, entry: LayerEntry): FileSink | undefined {
    // createNew (O_EXCL) never follows a symlink left at the path.
    const file = this.#create(
      rel,
      () => Deno.openSync(abs, { write: true, createNew: true, mode: 0o600 }),
    );
    this.#file = file;
    const sink: FileSink = {
      write(chunk) {
        for (let n = 0; n < chunk.byteLength;) n += file.writeSync(chunk.subarray(n));
      },
      close: () => {
        file.utimeSync(entry.atime, entry.mtime);
        file.close();
        this.#file = undefined;
        this.#metadata(abs, entry);
      },
    };
    if (entry.size > 0) return sink;
    sink.close();
  }

  #symlink(rel: string, abs: string, entry: LayerEntry): undefined {
    this.#create(rel, () => Deno.symlinkSync(entry.linkname, abs));
    lchown(abs, entry.uid, entry.gid);
    this.#xattrs(abs, entry);
    lutimes(abs, entry.atime, entry.mtime);
  }

  #node(rel: string, abs: string, entry: LayerEntry): undefined {
    const type = entry.type === "fifo"
      ? S_IFIFO
      : entry.type === "block-device"
      ? S_IFBLK
      : S_IFCHR;
    const { mode, devmajor, devminor } = entry;
    this.#create(rel, () => mknod(abs, type | (mode & 0o777), devmajor, devminor));
    this.#metadata(abs, entry);
    Deno.utimeSync(abs, entry.atime, entry.mtime);
  }

  /** Links to an entry extracted earlier; the shared inode already has its metadata. */
  #hardlink(rel: string, abs: string, entry: LayerEntry): undefined {
    const name = cleanName(entry.linkname);
    const slash = name.lastIndexOf("/");
    const dir = this.#root.resolveDir(slash < 0 ? "" : name.slice(0, slash), false);
    const target = dir === undefined || name === "" ? undefined : join(dir, name.slice(slash + 1));
    const info = target === undefined ? undefined : lstatOrUndefined(this.#root.abs(target));
    if (target === undefined || info === undefined) {
      throw new InvalidError(`Hardlink target "${entry.linkname}" is not in the layer`);
    }
    if (info.isDirectory) {
      throw new InvalidError(`Hardlink target "${entry.linkname}" is a directory`);
    }
    if (target === rel) return;
    this.#create(rel, () => Deno.linkSync(this.#root.abs(target), abs));
  }

  #whiteout(parent: string, base: string, entry: LayerEntry): undefined {
    if (base === OPAQUE) {
      lsetxattr(this.#root.abs(parent), "trusted.overlay.opaque", YES);
      return;
    }
    if (base.startsWith(`${WHITEOUT}${WHITEOUT}`)) return; // other AUFS metadata
    const name = base.slice(WHITEOUT.length);
    if (name === "" || name === "." || name === "..") {
      throw new InvalidError(`Invalid whiteout "${base}"`);
    }
    // overlayfs marks a deleted file with a 0/0 character device.
    const rel = join(parent, name);
    this.#remove(rel);
    mknod(this.#root.abs(rel), S_IFCHR, 0, 0);
    lchown(this.#root.abs(rel), entry.uid, entry.gid);
  }

  /** Owner, then mode (chown clears setuid/setgid), then xattrs (chown drops capabilities). */
  #metadata(abs: string, entry: LayerEntry): void {
    Deno.chownSync(abs, entry.uid, entry.gid);
    Deno.chmodSync(abs, entry.mode);
    this.#xattrs(abs, entry);
  }

  #xattrs(abs: string, entry: LayerEntry): void {
    if (entry.xattrs === undefined) return;
    for (const [name, value] of entry.xattrs) {
      // An archive must not forge overlayfs metadata; whiteouts come as .wh. entries.
      if (name.startsWith("trusted.overlay.")) continue;
      try {
        lsetxattr(abs, name, value.slice());
      } catch (error) {
        // As Docker does: some file systems or file types refuse some namespaces.
        if (
          error instanceof SyscallError && (error.errno === EPERM || error.errno === EOPNOTSUPP)
        ) continue;
        throw error;
      }
    }
  }

  /** Runs `create`; if something is already at `rel`, removes it and runs `create` again. */
  #create<T>(rel: string, create: () => T): T {
    try {
      return create();
    } catch (error) {
      if (!isExists(error)) throw error;
      this.#remove(rel);
      return create();
    }
  }

  #remove(rel: string): void {
    const abs = this.#root.abs(rel);
    const info = lstatOrUndefined(abs);
    if (info === undefined) return;
    if (!info.isDirectory) return Deno.removeSync(abs);
    Deno.removeSync(abs, { recursive: true }); // does not follow symlinks
    this.#root.forget(rel);
    const prefix = `${rel}/`;
    for (const dir of this.#dirTimes.keys()) {
      if (dir === rel || dir.startsWith(prefix)) this.#dirTimes.delete(dir);
    }
  }
}

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

function depth(rel: string): number {
  let n = 0;
  for (let i = rel.indexOf("/"); i >= 0; i = rel.indexOf("/", i + 1)) n++;
  return rel === "" ? -1 : n;
}

function isExists(error: unknown): boolean {
  return error instanceof Deno.errors.AlreadyExists ||
    (error instanceof SyscallError && error.code === "EEXIST");
}
