/**
 * Namespaces: unshare(2), setns(2) and the CLONE_* flags, plus opening a
 * namespace file. Both calls act on the calling (JS main) thread only.
 *
 * @module
 */
import { addressOf, cstr, libc, sys, syscallError } from "./libc.ts";

/** Namespace flags for unshare(2)/setns(2). */
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
/** Unshares the fs_struct (root, cwd, umask): needed before setns into a mount namespace. */
export const CLONE_FS = 0x00000200;

/** The OCI namespace type names and their flags. */
export const NAMESPACE_FLAGS: Readonly<Record<string, number>> = {
  pid: CLONE_NEWPID,
  network: CLONE_NEWNET,
  uts: CLONE_NEWUTS,
  ipc: CLONE_NEWIPC,
  mount: CLONE_NEWNS,
  cgroup: CLONE_NEWCGROUP,
  user: CLONE_NEWUSER,
};

/** The file name under /proc/PID/ns of each OCI namespace type. */
export const NAMESPACE_FILES: Readonly<Record<string, string>> = {
  pid: "pid",
  network: "net",
  uts: "uts",
  ipc: "ipc",
  mount: "mnt",
  cgroup: "cgroup",
  user: "user",
};

const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;

/**
 * unshare(2) on the calling thread.
 * @throws {SyscallError}
 */
export function unshare(flags: number): void {
  if (sys("unshare", BigInt(flags)) !== 0) throw syscallError("unshare");
}

/**
 * setns(2) on the calling thread.
 * @throws {SyscallError}
 */
export function setns(fd: number, flags = 0, what?: string): void {
  if (sys("setns", BigInt(fd), BigInt(flags)) !== 0) throw syscallError("setns", what);
}

/**
 * Opens a namespace file (e.g. `/proc/thread-self/ns/pid`) close-on-exec.
 * @returns the file descriptor
 * @throws {SyscallError}
 */
export function openNs(path: string): number {
  const fd = sys("openat", -100n, addressOf(cstr(path)), BigInt(O_RDONLY | O_CLOEXEC), 0n);
  if (fd < 0) throw syscallError("open", path);
  return fd;
}

const NS_GET_NSTYPE = 0xb703n;

/**
 * The CLONE_NEW* type of the namespace an fd refers to (ioctl NS_GET_NSTYPE).
 * @throws {SyscallError} ENOTTY when the fd is not a namespace
 */
export function nsType(fd: number, what?: string): number {
  const type = libc().ioctl_int(fd, NS_GET_NSTYPE, 0n);
  if (type < 0) throw syscallError("ioctl(NS_GET_NSTYPE)", what);
  return type;
}
