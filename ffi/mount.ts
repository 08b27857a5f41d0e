/**
 * Mounts: mount(2), umount2(2), pivot_root(2) and the MS_* flags, plus the
 * mapping of fstab-style option words to flags as runc does it.
 *
 * @module
 */
import { addressOf, cstr, sys, syscallError } from "./libc.ts";

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_STRICTATIME = 0x1000000;
/** umount2(2) flag: lazy unmount. */
export const MNT_DETACH = 0x2;

/** Propagation flags, applied by a separate mount(2) call. */
export const PROPAGATION_FLAGS = MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE;

/** Option words: [flags to set, flags to clear]. */
const OPTIONS: Record<string, [number, number]> = {
  ro: [MS_RDONLY, 0],
  rw: [0, MS_RDONLY],
  nosuid: [MS_NOSUID, 0],
  suid: [0, MS_NOSUID],
  nodev: [MS_NODEV, 0],
  dev: [0, MS_NODEV],
  noexec: [MS_NOEXEC, 0],
  exec: [0, MS_NOEXEC],
  sync: [MS_SYNCHRONOUS, 0],
  async: [0, MS_SYNCHRONOUS],
  dirsync: [MS_DIRSYNC, 0],
  mand: [MS_MANDLOCK, 0],
  nomand: [0, MS_MANDLOCK],
  noatime: [MS_NOATIME, 0],
  atime: [0, MS_NOATIME],
  nodiratime: [MS_NODIRATIME, 0],
  diratime: [0, MS_NODIRATIME],
  relatime: [MS_RELATIME, 0],
  norelatime: [0, MS_RELATIME],
  strictatime: [MS_STRICTATIME, 0],
  bind: [MS_BIND, 0],
  rbind: [MS_BIND | MS_REC, 0],
  private: [MS_PRIVATE, 0],
  rprivate: [MS_PRIVATE | MS_REC, 0],
  slave: [MS_SLAVE, 0],
  rslave: [MS_SLAVE | MS_REC, 0],
  shared: [MS_SHARED, 0],
  rshared: [MS_SHARED | MS_REC, 0],
  unbindable: [MS_UNBINDABLE, 0],
  runbindable: [MS_UNBINDABLE | MS_REC, 0],
};

/** Mount options split into flags, propagation flags and the data string. */
export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  data: string;
}

/** Splits fstab-style options into MS_* flags and the filesystem's data string. */
export function parseMountOptions(options: readonly string[]): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const word of options) {
    const known = OPTIONS[word];
    if (known === undefined) {
      data.push(word);
      continue;
    }
    const [set, clear] = known;
    if ((set & PROPAGATION_FLAGS) !== 0) propagation |= set;
    else flags = (flags | set) & ~clear;
  }
  return { flags, propagation, data: data.join(",") };
}

const nullable = (s: string | null): Uint8Array<ArrayBuffer> | null => s === null ? null : cstr(s);

/**
 * mount(2).
 * @throws {SyscallError} naming the target
 */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const d = data === null || data === "" ? null : cstr(data);
  const at = (s: Uint8Array | null) => (s === null ? 0n : addressOf(s));
  const [src, dst, type] = [nullable(source), cstr(target), nullable(fstype)];
  if (sys("mount", at(src), addressOf(dst), at(type), BigInt(flags), at(d)) !== 0) {
    throw syscallError("mount", target);
  }
}

/**
 * umount2(2).
 * @throws {SyscallError}
 */
export function umount2(target: string, flags = 0): void {
  if (sys("umount2", addressOf(cstr(target)), BigInt(flags)) !== 0) {
    throw syscallError("umount2", target);
  }
}

/**
 * chroot(2).
 * @throws {SyscallError}
 */
export function chroot(path: string): void {
  if (sys("chroot", addressOf(cstr(path))) !== 0) throw syscallError("chroot", path);
}

/**
 * pivot_root(2) (no glibc wrapper).
 * @throws {SyscallError}
 */
export function pivotRoot(newRoot: string, putOld: string): void {
  const [n, o] = [cstr(newRoot), cstr(putOld)];
  if (sys("pivot_root", addressOf(n), addressOf(o)) !== 0) {
    throw syscallError("pivot_root", newRoot);
  }
}
