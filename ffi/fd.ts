/**
 * Raw file descriptors: pipes, open/read/write/close, fcntl, dup2, used for
 * the launcher's pipes to a container's init and for ptys.
 *
 * @module
 */
import { addressOf, cstr, errno, libc, sys, syscallError } from "./libc.ts";

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_NOCTTY = 0o400;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_DIRECTORY = 0o200000;
export const O_NONBLOCK = 0o4000;
const F_SETFD = 2;
/** openat(2)'s "relative to the working directory". */
const AT_FDCWD = -100n;
const FD_CLOEXEC = 1;
const EINTR = 4;

/**
 * pipe2(2) without O_CLOEXEC, so that a spawned child inherits both ends.
 * @returns [readEnd, writeEnd]
 * @throws {SyscallError}
 */
export function pipe(flags = 0): [number, number] {
  const fds = new Int32Array(2);
  if (sys("pipe2", addressOf(fds), BigInt(flags)) !== 0) throw syscallError("pipe2");
  return [fds[0]!, fds[1]!];
}

/**
 * open(2).
 * @throws {SyscallError}
 */
export function openFd(path: string, flags: number, mode = 0): number {
  const fd = sys("openat", AT_FDCWD, addressOf(cstr(path)), BigInt(flags), BigInt(mode));
  if (fd < 0) throw syscallError("open", path);
  return fd;
}

/** close(2), ignoring errors. */
export function closeFd(fd: number): void {
  sys("close", BigInt(fd));
}

/**
 * Sets FD_CLOEXEC on a descriptor.
 * @throws {SyscallError}
 */
export function setCloexec(fd: number): void {
  if (sys("fcntl", BigInt(fd), BigInt(F_SETFD), BigInt(FD_CLOEXEC)) !== 0) {
    throw syscallError("fcntl");
  }
}

const F_GETFL = 3;
const F_SETFL = 4;

/**
 * Clears O_NONBLOCK on a descriptor.
 * @throws {SyscallError}
 */
export function setBlocking(fd: number): void {
  const flags = libc().fcntl(fd, F_GETFL, 0n);
  if (flags < 0 || libc().fcntl(fd, F_SETFL, BigInt(flags & ~O_NONBLOCK)) !== 0) {
    throw syscallError("fcntl");
  }
}

/**
 * dup2(2).
 * @throws {SyscallError}
 */
export function dup2(from: number, to: number): void {
  if (libc().dup2(from, to) < 0) throw syscallError("dup2");
}

/**
 * Writes all of `bytes` with write(2), blocking the calling thread.
 * @throws {SyscallError}
 */
export function writeAll(fd: number, bytes: Uint8Array<ArrayBuffer>): void {
  let off = 0;
  while (off < bytes.length) {
    const chunk = bytes.subarray(off);
    const n = sys("write", BigInt(fd), addressOf(chunk), BigInt(chunk.length));
    if (n < 0) {
      if (errno() === EINTR) continue;
      throw syscallError("write");
    }
    off += n;
  }
}

/**
 * read(2) on the calling thread; 0 at end of file.
 * @throws {SyscallError}
 */
export function readSync(fd: number, buf: Uint8Array<ArrayBuffer>): number {
  for (;;) {
    const n = sys("read", BigInt(fd), addressOf(buf), BigInt(buf.length));
    if (n >= 0) return n;
    if (errno() !== EINTR) throw syscallError("read");
  }
}

/** read(2) on a worker thread; a negative result is a failure (errno is not readable). */
export async function readAsync(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<number> {
  return Number(await libc().read_nb(fd, buf, BigInt(buf.length)));
}

/** Reads a descriptor to its end on a worker thread, then closes it. */
export async function readToEnd(fd: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await readAsync(fd, buf);
      if (n <= 0) break;
      parts.push(buf.slice(0, n));
    }
  } finally {
    closeFd(fd);
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) out.set(p, off), off += p.length;
  return out;
}
