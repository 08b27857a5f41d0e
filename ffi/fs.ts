/**
 * File-system calls that Deno has no API for: mknod, extended attributes,
 * lchown and timestamps on symlinks.
 *
 * @module
 */
import { cstr, errno, libc, syscallError } from "./libc.ts";

/** File type bits for {@linkcode mknod}. */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** Packs major/minor the way glibc's makedev(3) does. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/**
 * mknod(2): creates a device node or fifo. The mode obeys the umask.
 * @throws {SyscallError}
 */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  if (libc().mknod(cstr(path), mode, makedev(major, minor)) !== 0) {
    throw syscallError("mknod", path);
  }
}

/**
 * lsetxattr(2): sets an extended attribute without following symlinks.
 * @throws {SyscallError}
 */
export function lsetxattr(path: string, name: string, value: Uint8Array<ArrayBuffer>): void {
  if (libc().lsetxattr(cstr(path), cstr(name), value, BigInt(value.byteLength), 0) !== 0) {
    throw syscallError("lsetxattr", path);
  }
}

const ENODATA = 61;
const ERANGE = 34;

/**
 * lgetxattr(2): reads an extended attribute; undefined when it is absent.
 * @throws {SyscallError}
 */
export function lgetxattr(path: string, name: string): Uint8Array | undefined {
  let size = 256;
  for (;;) {
    const buf = new Uint8Array(size);
    const n = Number(libc().lgetxattr(cstr(path), cstr(name), buf, BigInt(size)));
    if (n >= 0) return buf.slice(0, n);
    const code = errno();
    if (code === ENODATA) return undefined;
    if (code !== ERANGE || size > 1 << 20) throw syscallError("lgetxattr", path, code);
    size *= 4;
  }
}

/**
 * llistxattr(2): names of a file's extended attributes.
 * @throws {SyscallError}
 */
export function llistxattr(path: string): string[] {
  let size = 1024;
  for (;;) {
    const buf = new Uint8Array(size);
    const n = Number(libc().llistxattr(cstr(path), buf, BigInt(size)));
    if (n >= 0) {
      return new TextDecoder().decode(buf.subarray(0, n)).split("\0").filter((s) => s.length > 0);
    }
    const code = errno();
    if (code !== ERANGE || size > 1 << 20) throw syscallError("llistxattr", path, code);
    size *= 4;
  }
}

/**
 * lchown(2): changes owner without following a symlink.
 * @throws {SyscallError}
 */
export function lchown(path: string, uid: number, gid: number): void {
  if (libc().lchown(cstr(path), uid, gid) !== 0) throw syscallError("lchown", path);
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;

/**
 * utimensat(2) with AT_SYMLINK_NOFOLLOW: sets atime and mtime (seconds, may be
 * fractional) of a path, a symlink itself included.
 * @throws {SyscallError}
 */
export function lutimes(path: string, atime: number, mtime: number): void {
  const times = new BigInt64Array(4);
  const split = (t: number): [bigint, bigint] => {
    const s = Math.floor(t);
    return [BigInt(s), BigInt(Math.round((t - s) * 1e9))];
  };
  [times[0], times[1]] = split(atime);
  [times[2], times[3]] = split(mtime);
  const buf = new Uint8Array(times.buffer);
  if (libc().utimensat(AT_FDCWD, cstr(path), buf, AT_SYMLINK_NOFOLLOW) !== 0) {
    throw syscallError("utimensat", path);
  }
}
