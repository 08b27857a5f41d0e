/**
 * `docker cp`: copies between a container's file system and the host, as
 * tar streams, with Docker's rules for where the copy lands.
 *
 * A running container's files are reached through `/proc/PID/root`; a
 * stopped one's overlay is mounted on a temp dir for the copy (read-only
 * when reading), so writes land in its upper dir as if it had made them.
 * Container paths are resolved with {@linkcode secureJoin}: the kernel would
 * resolve an absolute symlink met under `/proc/PID/root` (or a mount point)
 * against the host's root, so no container symlink is ever left to it.
 *
 * @module
 */
import { posix } from "node:path";
import { MNT_DETACH, mount, MS_RDONLY, umount2 } from "../../ffi/mount.ts";
import { applyLayer, packDir } from "../archive/mod.ts";
import { makeTempDir } from "../store/tmp.ts";
import { loadNativeSha256 } from "../digest.ts";
import { ConflictError, EngineError, InvalidError, NotFoundError } from "../errors.ts";
import { OVERLAY_ANNOTATION, pauseContainer, resumeContainer, secureJoin } from "../runtime/mod.ts";

import type { ContainerRecord } from "./container_record.ts";

/** Options for {@linkcode copyFromContainer} and {@linkcode copyToContainer}. */
export interface CopyOptions {
  /** Keep the source's uid/gid (`-a`); else the destination's root (or caller) owns the copy. @default false */
  archive?: boolean;
  /** Copy what a symlink SRC points to, not the link (`-L`). @default false */
  followLink?: boolean;
}

/** The container a copy reads or writes. */
export interface CopyTarget {
  record: ContainerRecord;
  /** The name or ID the user gave, for messages. */
  given: string;
  /** The container's directory (`<root>/containers/<id>`). */
  dir: string;
  /** Where a stopped container's overlay is mounted for the copy. */
  tmpDir: string;
  /** The runtime's state root, to freeze a running container during the copy. */
  runtimeRoot: string;
}

/** Receives the tar of a container path (`cp CONTAINER:SRC -`). */
export type TarSink = (tar: ReadableStream<Uint8Array>) => Promise<void>;

/** A resolved copy source. */
interface Source {
  /** Host path of the source (under the container's root, or on the host). */
  path: string;
  /** Base name the copy takes when it goes into a directory; `""` for `SRC/.`. */
  name: string;
  isDir: boolean;
}

/**
 * Copies `src` from a container to the host path `dest`, or hands its tar to `dest`.
 * @throws {NotFoundError} `Could not find the file /nope in container web`
 * @throws {EngineError} when the destination does not fit Docker's rules
 */
export async function copyFromContainer(
  target: CopyTarget,
  src: string,
  dest: string | TarSink,
  options: CopyOptions = {},
): Promise<void> {
  await withContainerRoot(target, true, async (root) => {
    const source = containerSource(root, src, target.given, options.followLink ?? false);
    // The root may be /proc/PID/root, a symlink to follow; nothing below it is followed.
    const followLink = source.path === root;
    if (typeof dest !== "string") {
      return dest(packDir(source.path, { name: source.name, followLink }));
    }
    const place = destination(undefined, dest, source, {
      missing: () => notFoundOnHost(dest),
      irregular: (got) =>
        new EngineError(
          `Invalid output path: "${
            posix.resolve(dest)
          }" must be a directory or a regular file: got ${got}`,
        ),
    });
    const owner = options.archive ? {} : { owner: { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 } };
    await extract(
      packDir(source.path, { name: place.name, followLink, ...owner }),
      place.dir,
      place.dir,
    );
  });
}

/**
 * Copies the host path `src`, or a tar stream's entries, into a container at `dest`.
 * @throws {NotFoundError} for a missing source or destination directory
 * @throws {EngineError} when the destination does not fit Docker's rules
 */
export async function copyToContainer(
  target: CopyTarget,
  src: string | ReadableStream<Uint8Array>,
  dest: string,
  options: CopyOptions = {},
): Promise<void> {
  await withContainerRoot(target, false, async (root) => {
    const missing = (path: string) => notFoundIn(path, target.given);
    if (typeof src !== "string") {
      const dir = secureJoin(root, posix.normalize(`/${dest}`));
      const info = statInRoot(root, dir);
      if (info === undefined) throw missing(dest);
      if (!info.isDirectory) {
        throw new EngineError(`Cannot extract to "${dest}": extraction point is not a directory`);
      }
      return extract(src, dir, inRoot(root, dir));
    }
    const source = hostSource(src, options.followLink ?? false);
    const place = destination(root, dest, source, {
      missing,
      irregular: (got) =>
        new EngineError(
          `Destination "${target.given}:${dest}" must be a directory or a regular file: got ${got}`,
        ),
    });
    const owner = options.archive ? {} : { owner: { uid: 0, gid: 0 } };
    await extract(
      packDir(source.path, { name: place.name, followLink: options.followLink ?? false, ...owner }),
      place.dir,
      inRoot(root, place.dir),
    );
  });
}

/** Runs `fn` with the host path of the container's root, mounting it first if it is stopped. */
async function withContainerRoot<T>(
  target: CopyTarget,
  readOnly: boolean,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const { record } = target;
  if (record.State.Running && record.State.Pid > 0) {
    const root = `/proc/${record.State.Pid}/root`;
    if (lstatOrUndefined(root) !== undefined) {
      const thaw = await freeze(target);
      try {
        if (!inContainer(record.State.Pid, record.Id)) {
          throw new EngineError(`Cannot copy: container "${target.given}" is not running`);
        }
        return await fn(root);
      } finally {
        await thaw();
      }
    }
  }
  const data = overlayData(target.dir);
  const mountPoint = makeTempDir(target.tmpDir, "-cp");
  try {
    mount("overlay", mountPoint, "overlay", readOnly ? MS_RDONLY : 0, data);
    try {
      return await fn(mountPoint);
    } finally {
      umount2(mountPoint, MNT_DETACH);
    }
  } finally {
    await Deno.remove(mountPoint);
  }
}

/**
 * Freezes a running container for the copy, as Docker does since
 * CVE-2018-15664: a path checked by secureJoin cannot then be swapped for a
 * symlink before it is used. A container the user paused stays paused (the
 * returned thaw does nothing); one that cannot be frozen is not copied
 * through, since its processes could still swap what the copy resolved.
 * @throws {EngineError} when the container cannot be frozen
 */
async function freeze(target: CopyTarget): Promise<() => Promise<void>> {
  const id = target.record.Id;
  try {
    await pauseContainer(target.runtimeRoot, id);
  } catch (error) {
    if (error instanceof ConflictError && error.message.endsWith("is already paused")) {
      return async () => {};
    }
    // A freezer that did not settle may have frozen part of it.
    await resumeContainer(target.runtimeRoot, id).catch(() => {});
    throw new EngineError(`Cannot copy: container "${target.given}" could not be frozen`, {
      cause: error,
    });
  }
  return () => resumeContainer(target.runtimeRoot, id);
}

/**
 * Whether `pid` is still a process of container `id` (in its cgroup): once
 * the container is frozen its processes cannot exit, so a PID that passes
 * cannot have been reused by a host process whose root the copy would use.
 */
function inContainer(pid: number, id: string): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cgroup`).includes(`/${id}`);
  } catch {
    return false;
  }
}

/** The overlay mount options from the bundle's annotation. */
function overlayData(dir: string): string {
  let o: { lowerdir?: unknown; upperdir?: unknown; workdir?: unknown } = {};
  try {
    const spec = JSON.parse(Deno.readTextFileSync(`${dir}/bundle/config.json`));
    o = JSON.parse(spec.annotations?.[OVERLAY_ANNOTATION] ?? "{}");
  } catch (error) {
    throw new InvalidError(`Cannot read the root file system of "${dir}"`, { cause: error });
  }
  const { lowerdir, upperdir, workdir } = o;
  if (
    !Array.isArray(lowerdir) || lowerdir.length === 0 || typeof upperdir !== "string" ||
    typeof workdir !== "string"
  ) {
    throw new InvalidError(`Invalid config.json in "${dir}": annotation "${OVERLAY_ANNOTATION}"`);
  }
  return `lowerdir=${lowerdir.join(":")},upperdir=${upperdir},workdir=${workdir}`;
}

/**
 * Resolves a container path: every component is resolved inside `root`,
 * the last one only for `-L`, `SRC/` or `SRC/.` (else a symlink is copied as is).
 */
function containerSource(root: string, src: string, given: string, follow: boolean): Source {
  const clean = posix.normalize(`/${src}`);
  const wantsDir = /(^|\/)\.?$/.test(src);
  const path = follow || wantsDir || clean === "/"
    ? secureJoin(root, clean)
    : `${secureJoin(root, posix.dirname(clean))}/${posix.basename(clean)}`;
  const info = statInRoot(root, path);
  if (info === undefined) throw notFoundIn(src, given);
  return checked(src, path, clean, info);
}

/** Resolves a host path; the host's own symlinks are trusted. */
function hostSource(src: string, follow: boolean): Source {
  const path = posix.resolve(src);
  let info: Deno.FileInfo | undefined;
  try {
    info = follow || /(^|\/)\.?$/.test(src) ? Deno.statSync(path) : Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw notFoundOnHost(src);
    throw error;
  }
  return checked(src, path, path, info);
}

function checked(src: string, path: string, clean: string, info: Deno.FileInfo): Source {
  const wantsDir = /(^|\/)\.?$/.test(src);
  if (wantsDir && !info.isDirectory) {
    throw new EngineError(`Cannot copy "${src}": not a directory`);
  }
  const contents = /(^|\/)\.$/.test(src) || clean === "/";
  return { path, name: contents ? "" : posix.basename(clean), isDir: info.isDirectory };
}

/** How {@linkcode destination} words what does not fit. */
interface DestinationErrors {
  /** The destination's parent directory is missing. */
  missing: (path: string) => Error;
  /** The destination is neither a directory nor a regular file (`got` says what it is). */
  irregular: (got: string) => Error;
}

/**
 * Docker's rules for where `source` lands at `dest`: into an existing
 * directory under its own name (its contents for `SRC/.`), over an existing
 * file, or as a new entry named `dest` in `dest`'s parent. A symlink at
 * `dest` is followed (inside the container for a container path), so the
 * copy lands on its target; a destination that is a device, fifo or socket
 * is refused, never replaced.
 * @param root the container's root, or undefined for the host
 */
function destination(
  root: string | undefined,
  dest: string,
  source: Source,
  errors: DestinationErrors,
): { dir: string; name: string } {
  const wantsDir = /(^|\/)\.?$/.test(dest);
  const clean = root === undefined ? posix.resolve(dest) : posix.normalize(`/${dest}`);
  if (root === undefined) {
    // As docker's ValidateOutputPath: the kernel follows every link, /proc's magic ones too.
    // A link loop is reported by followHostLinks below.
    const followed = statOrUndefined(clean, { loop: true });
    if (followed !== undefined) refuseIrregular(followed, errors);
  }
  const path = root === undefined ? followHostLinks(clean, dest) : secureJoin(root, clean);
  const info = root === undefined ? lstatOrUndefined(path) : statInRoot(root, path);
  if (info?.isDirectory) return { dir: path, name: source.name };
  if (info !== undefined) {
    refuseIrregular(info, errors);
    if (source.isDir) {
      throw new EngineError(`Cannot copy a directory to "${dest}": it is a file`);
    }
    if (wantsDir) throw new EngineError(`Cannot copy to "${dest}": not a directory`);
  } else if (wantsDir && !source.isDir) {
    throw new EngineError(`Cannot copy to "${dest}": the destination directory must exist`);
  }
  const slash = path.lastIndexOf("/");
  const parent = path.slice(0, slash) || "/";
  // Under a container's root, secureJoin resolved every link: lstat, never let the kernel follow.
  const parentInfo = root === undefined ? statOrUndefined(parent) : statInRoot(root, parent);
  if (!(parentInfo?.isDirectory ?? false)) {
    throw errors.missing(root === undefined ? posix.dirname(path) : posix.dirname(clean));
  }
  return { dir: parent, name: path.slice(slash + 1) };
}

/** Docker's `cp` writes only to a directory or a regular file (else it would replace the node). */
function refuseIrregular(info: Deno.FileInfo, errors: DestinationErrors): void {
  if (info.isDirectory || info.isFile || info.isSymlink) return;
  const got = info.isCharDevice || info.isBlockDevice
    ? "a device"
    : info.isFifo
    ? "a fifo"
    : info.isSocket
    ? "a socket"
    : "an irregular file";
  throw errors.irregular(got);
}

/** The maximum number of links followed at a host destination, as Docker's CopyInfoDestinationPath. */
const MAX_DEST_LINKS = 10;

/**
 * Follows symlinks at a host destination, so the copy lands on what the
 * link names (which need not exist yet) and the link itself stays.
 */
function followHostLinks(path: string, dest: string): string {
  for (let n = 0; n <= MAX_DEST_LINKS; n++) {
    if (!(lstatOrUndefined(path)?.isSymlink ?? false)) return path;
    path = posix.resolve(posix.dirname(path), Deno.readLinkSync(path));
  }
  throw new EngineError(`Cannot copy to "${dest}": too many levels of symbolic links`);
}

/** The container path of `path`, a host path below the container's `root`. */
function inRoot(root: string, path: string): string {
  return path.slice(root.replace(/\/+$/, "").length) || "/";
}

/**
 * Extracts a tar into `dir`, confined to it, as a plain copy: no whiteouts
 * (they belong to image layers only), and no directory replaced by a file
 * or the reverse.
 * @param shownAs how `dir` is named in messages (its path in the container, for a container)
 */
async function extract(
  tar: ReadableStream<Uint8Array>,
  dir: string,
  shownAs: string,
): Promise<void> {
  // applyLayer hashes the tar as it extracts it.
  await loadNativeSha256();
  await applyLayer(tar, dir, { copy: { shownAs } });
}

function notFoundIn(path: string, given: string): NotFoundError {
  return new NotFoundError(`Could not find the file ${path} in container ${given}`);
}

function notFoundOnHost(path: string): NotFoundError {
  return new NotFoundError(`lstat ${path}: no such file or directory`);
}

/**
 * lstat below a container's root; the root itself is followed, as
 * `/proc/PID/root` is a (magic) symlink.
 */
function statInRoot(root: string, path: string): Deno.FileInfo | undefined {
  return path === root ? statOrUndefined(path) : lstatOrUndefined(path);
}

function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
}

/** stat; undefined for a missing path (or, with `loop`, a symlink loop). */
function statOrUndefined(path: string, ignore = { loop: false }): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory ||
      (ignore.loop && error instanceof Deno.errors.FilesystemLoop)
    ) {
      return undefined;
    }
    throw error;
  }
}
