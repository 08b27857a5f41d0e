/**
 * Builds a container's root inside its new mount namespace: the rootfs
 * (overlay or bind), the spec's mounts, /dev nodes and links, pivot_root,
 * then masked, read-only and read-only-root paths. Synchronous only: the
 * async file APIs run on threads still in the host's mount namespace.
 *
 * @module
 */
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../../ffi/fs.ts";
import {
  chroot,
  MNT_DETACH,
  mount,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  parseMountOptions,
  pivotRoot,
  umount2,
} from "../../ffi/mount.ts";
import { chdir } from "../../ffi/proc.ts";
import { closeFd, O_CLOEXEC, O_PATH, openFd } from "../../ffi/fd.ts";
import { EngineError, InvalidError } from "../errors.ts";
import { mountCgroups } from "./cgroup_mount.ts";
import { ownsMountNamespace } from "./host_mounts.ts";
import { secureJoin } from "./secure_join.ts";
import { type Mount, OVERLAY_ANNOTATION, type Spec } from "./spec.ts";

const DEFAULT_DEVICES = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
  ["tty", 5, 0],
] as const;

const DEV_LINKS = [
  ["/proc/self/fd", "fd"],
  ["/proc/self/fd/0", "stdin"],
  ["/proc/self/fd/1", "stdout"],
  ["/proc/self/fd/2", "stderr"],
  ["pts/ptmx", "ptmx"],
] as const;

/** Mounts the rootfs onto itself (bind) or as an overlay, per the spec's annotation. */
function mountRoot(spec: Spec, rootfs: string): void {
  const overlay = spec.annotations?.[OVERLAY_ANNOTATION];
  if (overlay === undefined) {
    mount(rootfs, rootfs, null, MS_BIND | MS_REC);
    return;
  }
  let o: { lowerdir?: unknown; upperdir?: unknown; workdir?: unknown };
  try {
    o = JSON.parse(overlay);
  } catch {
    throw new InvalidError(`Invalid config.json: annotation "${OVERLAY_ANNOTATION}" is not JSON`);
  }
  if (!Array.isArray(o.lowerdir) || o.lowerdir.length === 0) {
    throw new InvalidError(
      `Invalid config.json: annotation "${OVERLAY_ANNOTATION}" needs "lowerdir"`,
    );
  }
  let data = `lowerdir=${o.lowerdir.join(":")}`;
  if (typeof o.upperdir === "string" && typeof o.workdir === "string") {
    data += `,upperdir=${o.upperdir},workdir=${o.workdir}`;
  }
  mount("overlay", rootfs, "overlay", 0, data);
}

function ensureTarget(target: string, file: boolean): void {
  try {
    Deno.lstatSync(target);
    return;
  } catch {
    // created below
  }
  if (file) {
    Deno.mkdirSync(target.slice(0, target.lastIndexOf("/")) || "/", { recursive: true });
    Deno.writeFileSync(target, new Uint8Array());
  } else {
    Deno.mkdirSync(target, { recursive: true });
  }
}

/**
 * Runs `fn` on `/proc/self/fd/N` of `target` opened O_PATH, after checking
 * that what was opened is still `target` inside `rootfs` (runc's fix of
 * CVE-2021-30465): a component swapped for a symlink after secureJoin (by
 * another container sharing a volume) fails the check instead of leading
 * the mount out of the root.
 * @internal exported for its test
 */
export function atVerified(rootfs: string, target: string, fn: (path: string) => void): void {
  const fd = openFd(target, O_PATH | O_CLOEXEC | O_NOFOLLOW);
  try {
    const path = `/proc/self/fd/${fd}`;
    const opened = Deno.readLinkSync(path);
    const want = Deno.realPathSync(rootfs) + target.slice(rootfs.replace(/\/+$/, "").length);
    if (opened !== want) {
      throw new EngineError(`Mount target "${target}" changed while it was mounted on`);
    }
    fn(path);
  } finally {
    closeFd(fd);
  }
}

const O_NOFOLLOW = 0o400000;

/** Mounts one spec mount under `rootfs`. */
function mountOne(m: Mount, rootfs: string, bundle: string): void {
  const target = secureJoin(rootfs, m.destination);
  if (target === rootfs.replace(/\/+$/, "") && m.destination.replace(/\/+$/, "") !== "") {
    // A symlink in the image (`/data -> ../..`) would put this mount over the whole root.
    throw new InvalidError(`Cannot mount on "${m.destination}": it resolves to the root`);
  }
  const { flags, propagation, data } = parseMountOptions(m.options ?? []);
  const isBind = (flags & MS_BIND) !== 0 || m.type === "bind";
  if (isBind) {
    const source = m.source === undefined
      ? ""
      : m.source.startsWith("/")
      ? m.source
      : `${bundle}/${m.source}`;
    ensureTarget(target, !Deno.statSync(source).isDirectory);
    atVerified(rootfs, target, (at) => mount(source, at, null, MS_BIND | (flags & MS_REC)));
    const rest = flags & ~(MS_BIND | MS_REC);
    if (rest !== 0) {
      atVerified(
        rootfs,
        target,
        (at) => mount(null, at, null, rest | MS_BIND | MS_REMOUNT | (flags & MS_REC)),
      );
    }
  } else {
    ensureTarget(target, false);
    atVerified(
      rootfs,
      target,
      (at) => mount(m.source ?? m.type ?? "none", at, m.type ?? null, flags, data),
    );
  }
  if (propagation !== 0) atVerified(rootfs, target, (at) => mount(null, at, null, propagation));
}

const isAlreadyExists = (error: unknown) =>
  error instanceof Deno.errors.AlreadyExists || (error as { code?: string }).code === "EEXIST";

/**
 * Makes the runtime's own nodes and links (runc's default devices), unless
 * /dev comes from the host by a bind mount, then the spec's `linux.devices`.
 * Under a deny-all device rule these mknods pass because the cgroup allows
 * them after the spec's rules (see withRuntimeDevices).
 */
function makeDevices(spec: Spec, rootfs: string, devBound: boolean): void {
  const dev = secureJoin(rootfs, "/dev");
  if (!devBound) {
    Deno.mkdirSync(dev, { recursive: true, mode: 0o755 });
    for (const [name, major, minor] of DEFAULT_DEVICES) {
      try {
        mknod(`${dev}/${name}`, S_IFCHR | 0o666, major, minor);
      } catch (error) {
        // The rootfs's own /dev (no tmpfs on it) may have them already.
        if (isAlreadyExists(error)) continue;
        throw error;
      }
      Deno.chmodSync(`${dev}/${name}`, 0o666);
    }
  }
  for (const d of spec.linux?.devices ?? []) {
    const path = secureJoin(rootfs, d.path);
    const type = d.type === "b" ? S_IFBLK : d.type === "p" ? S_IFIFO : S_IFCHR;
    try {
      Deno.removeSync(path);
    } catch {
      // absent
    }
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: 0o755 });
    mknod(path, type | 0o600, d.major, d.minor);
    Deno.chmodSync(path, (d.fileMode ?? 0o666) & 0o7777);
    if (d.uid !== undefined || d.gid !== undefined) Deno.chownSync(path, d.uid ?? 0, d.gid ?? 0);
  }
  if (devBound) return;
  // After linux.devices: a host's ptmx there (a privileged spec has one) would
  // open ptys of the host's devpts, not of the container's (runc's setupPtmx).
  for (const [target, name] of DEV_LINKS) {
    const path = `${dev}/${name}`;
    if (name === "ptmx") {
      try {
        if (!Deno.lstatSync(path).isSymlink) Deno.removeSync(path);
      } catch {
        // absent
      }
    }
    try {
      Deno.symlinkSync(target, path);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }
}

/**
 * Prepares the root up to pivot_root: rootfs, mounts, devices, console.
 * @param console makes the container's pty (after /dev/pts is mounted) and
 *   returns its slave, which is bound onto /dev/console
 */
export function prepareRootfs(
  spec: Spec,
  rootfs: string,
  bundle: string,
  console?: () => string,
): void {
  const propagation = rootPropagation(spec);
  const own = ownsMountNamespace(spec);
  if (own) {
    // The container's copy of the host's mounts: private, or as linux.rootfsPropagation says.
    mount(null, "/", null, propagation === 0 ? MS_REC | MS_PRIVATE : propagation);
    // With the spec's propagation, the mount holding the rootfs goes private (as runc does),
    // so the rootfs bind and what is mounted under it never reach the host's peers.
    if (propagation !== 0) mount(null, mountPointOf(rootfs), null, MS_PRIVATE);
  }
  try {
    mountRoot(spec, rootfs);
    // In the host's mount namespace the host's propagation stays as it is: the rootfs mount
    // alone goes private, so nothing mounted under it reaches another namespace.
    if (!own) mount(null, rootfs, null, MS_REC | MS_PRIVATE);
  } catch (error) {
    if (error instanceof InvalidError) throw error;
    throw new EngineError(`Cannot mount the rootfs "${rootfs}"`, { cause: error });
  }
  let devBound = false;
  for (const m of spec.mounts ?? []) {
    if (m.destination.replace(/\/+$/, "") === "/dev") {
      devBound = m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind");
    }
    try {
      if (m.type === "cgroup" || m.type === "cgroup2") mountCgroups(m, rootfs);
      else mountOne(m, rootfs, bundle);
    } catch (error) {
      throw new EngineError(`Cannot mount "${m.destination}"`, { cause: error });
    }
  }
  makeDevices(spec, rootfs, devBound);
  if (console !== undefined) {
    const target = secureJoin(rootfs, "/dev/console");
    ensureTarget(target, true);
    mount(console(), target, null, MS_BIND);
  }
}

/**
 * pivot_root(".", ".") into `rootfs`, then detaches the old root stacked on
 * it (without a mount namespace of its own: chroot) and gives the new / the
 * spec's `linux.rootfsPropagation`, if any.
 */
export function enterRootfs(rootfs: string, spec: Spec): void {
  chdir(rootfs);
  if (ownsMountNamespace(spec)) {
    pivotRoot(".", ".");
    umount2(".", MNT_DETACH);
  } else {
    // pivot_root would move the host's own root: a container in the host's mount namespace
    // gets a chroot, as runc gives it (it is no barrier to a process with CAP_SYS_CHROOT).
    chroot(".");
  }
  chdir("/");
  const propagation = rootPropagation(spec);
  if (propagation !== 0) mount(null, "/", null, propagation);
}

/** `linux.rootfsPropagation` as mount(2) propagation flags; 0 when unset. */
function rootPropagation(spec: Spec): number {
  const value = spec.linux?.rootfsPropagation;
  if (value === undefined || value === "") return 0;
  const { propagation } = parseMountOptions([value]);
  if (propagation === 0) {
    throw new InvalidError(`Invalid config.json: "linux.rootfsPropagation" "${value}" is unknown`);
  }
  return propagation;
}

/** The mount point (of this mount namespace) that holds `path`. */
function mountPointOf(path: string): string {
  const real = Deno.realPathSync(path);
  let best = "/";
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const point = (line.split(" ")[4] ?? "").replace(/\\040/g, " ");
    const under = point === "/" || real === point || real.startsWith(`${point}/`);
    if (point !== "" && under && point.length > best.length) best = point;
  }
  return best;
}

/**
 * Creates `process.cwd` when the root lacks it, as Docker does. Called after
 * pivot_root, so the host is out of reach; a symlink component, even one
 * whose target is missing, is followed inside the root (as Docker's
 * FollowSymlinkInScope does) rather than failing as a plain mkdir -p would.
 * @throws {EngineError} when a component is not a directory
 */
export function makeCwd(cwd: string): void {
  try {
    Deno.mkdirSync(secureJoin("/", cwd) || "/", { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new EngineError(`Cannot create the working directory "${cwd}"`, { cause: error });
  }
}

/** Applies maskedPaths, readonlyPaths and root.readonly, after pivot_root. */
export function finishRootfs(spec: Spec): void {
  for (const path of spec.linux?.readonlyPaths ?? []) {
    try {
      mount(path, path, null, MS_BIND | MS_REC);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") continue;
      throw error;
    }
    mount(
      null,
      path,
      null,
      MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC,
    );
  }
  for (const path of spec.linux?.maskedPaths ?? []) {
    let isDir: boolean;
    try {
      isDir = Deno.statSync(path).isDirectory;
    } catch (error) {
      // Absent is nothing to mask; anything else (a symlink loop) is an error, as in runc.
      if (error instanceof Deno.errors.NotFound) continue;
      throw new EngineError(`Cannot mask "${path}"`, { cause: error });
    }
    if (isDir) mount("tmpfs", path, "tmpfs", MS_RDONLY);
    else mount("/dev/null", path, null, MS_BIND);
  }
  if (spec.root.readonly) mount(null, "/", null, MS_BIND | MS_REMOUNT | MS_RDONLY);
}
