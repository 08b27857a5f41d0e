/**
 * Path resolution confined to an extraction root.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";

/** Linux's limit on symlinks followed while resolving one path (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

/**
 * Resolves archive paths inside a root directory as if the process were
 * chrooted there (Docker extracts layers in a chroot): a symlink met as a
 * parent component is followed, but an absolute target restarts at the root
 * and `..` stops at it, so no path ever leaves the root.
 *
 * Paths are relative to the root, `/`-separated and cleaned; `""` is the root.
 * The directories known to be real (not symlinks) are cached, so the common
 * case costs one `Set` lookup. This relies on nothing else writing below the
 * root while a layer is extracted.
 */
export class LayerRoot {
  readonly path: string;
  #dirs = new Set<string>([""]);

  constructor(path: string) {
    this.path = path;
  }

  /** The absolute path of a resolved relative path. */
  abs(rel: string): string {
    return rel === "" ? this.path : `${this.path}/${rel}`;
  }

  /** True when `rel` is a directory extracted or verified earlier. */
  isDir(rel: string): boolean {
    return this.#dirs.has(rel);
  }

  /** Records that `rel` (already resolved) is now a real directory. */
  addDir(rel: string): void {
    this.#dirs.add(rel);
  }

  /** Forgets `rel` and everything below it, after it was removed or replaced. */
  forget(rel: string): void {
    if (!this.#dirs.delete(rel)) return;
    const prefix = `${rel}/`;
    for (const dir of this.#dirs) if (dir.startsWith(prefix)) this.#dirs.delete(dir);
  }

  /**
   * Resolves a directory path, following symlinks within the root; missing
   * directories are created (mode 0755) when `create` is true.
   * @returns the real path, or undefined when a component is missing and `create` is false
   * @throws {InvalidError} when a component is not a directory or symlinks loop
   */
  resolveDir(rel: string, create: boolean): string | undefined {
    if (this.#dirs.has(rel)) return rel;
    const pending = rel.split("/").reverse();
    let current = "";
    let links = 0;
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (name === "" || name === ".") continue;
      if (name === "..") {
        current = current.slice(0, Math.max(current.lastIndexOf("/"), 0));
        continue;
      }
      const next = current === "" ? name : `${current}/${name}`;
      if (this.#dirs.has(next)) {
        current = next;
        continue;
      }
      const info = lstatOrUndefined(this.abs(next));
      if (info === undefined) {
        if (!create) return undefined;
        Deno.mkdirSync(this.abs(next), { mode: 0o755 });
      } else if (info.isSymlink) {
        if (++links > MAX_SYMLINKS) {
          throw new InvalidError(`Cannot resolve "${rel}": too many levels of symbolic links`);
        }
        const target = Deno.readLinkSync(this.abs(next));
        if (target.startsWith("/")) current = "";
        pending.push(...target.split("/").reverse());
        continue;
      } else if (!info.isDirectory) {
        throw new InvalidError(`Cannot resolve "${rel}": "${next}" is not a directory`);
      }
      this.#dirs.add(next);
      current = next;
    }
    return current;
  }
}

/** lstat that returns undefined for a missing path. */
export function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
