/**
 * Unix sockets Deno's own API does not reach: SOCK_SEQPACKET connections
 * (conmon's attach socket), and passing a file descriptor over a socket
 * (SCM_RIGHTS, the OCI console socket).
 *
 * @module
 */
import { closeFd, O_CLOEXEC, O_PATH, O_RDONLY, openFd } from "./fd.ts";
import { cstr, libc, syscallError } from "./libc.ts";

const AF_UNIX = 1;
/** SOCK_STREAM */
export const SOCK_STREAM = 1;
/** SOCK_SEQPACKET: a connection that keeps message boundaries. */
export const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;
/** shutdown(2)'s `how`. */
export const SHUT_WR = 1;
/** shutdown(2)'s `how`. */
export const SHUT_RDWR = 2;
/** sun_path's size on Linux, its terminating NUL included. */
const SUN_PATH = 108;

function sockaddr(path: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(path);
  const addr = new Uint8Array(2 + SUN_PATH);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(bytes, 2);
  return addr;
}

/**
 * Connects a new unix socket of `type` to `path`. A path longer than
 * sun_path is reached through its directory's `/proc/self/fd` entry.
 * @returns the connected fd (close-on-exec)
 * @throws {SyscallError}
 */
export function connectUnix(path: string, type: number): number {
  const c = libc();
  let dirFd: number | undefined;
  let target = path;
  if (new TextEncoder().encode(path).length >= SUN_PATH) {
    const slash = path.lastIndexOf("/");
    dirFd = openFd(path.slice(0, slash) || "/", O_PATH | O_RDONLY | O_CLOEXEC);
    target = `/proc/self/fd/${dirFd}/${path.slice(slash + 1)}`;
  }
  try {
    const fd = c.socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) throw syscallError("socket", path);
    const addr = sockaddr(target);
    if (c.connect(fd, addr, addr.length) !== 0) {
      const error = syscallError("connect", path);
      c.close(fd);
      throw error;
    }
    return fd;
  } finally {
    if (dirFd !== undefined) closeFd(dirFd);
  }
}

/**
 * Sends `fd` over the connected unix socket `sock` (SCM_RIGHTS), with
 * `name` as the message's bytes (runc sends the pty's name this way).
 * @throws {SyscallError}
 */
export function sendFd(sock: number, fd: number, name: string): void {
  const data = cstr(name);
  const iov = new BigUint64Array([
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(data))),
    BigInt(data.length),
  ]);
  // struct cmsghdr: cmsg_len (size_t), cmsg_level, cmsg_type (int), then the fd: CMSG_SPACE(4) = 24.
  const control = new Uint8Array(24);
  const cv = new DataView(control.buffer);
  cv.setBigUint64(0, 20n, true);
  cv.setInt32(8, SOL_SOCKET, true);
  cv.setInt32(12, SCM_RIGHTS, true);
  cv.setInt32(16, fd, true);
  // struct msghdr (x86-64): name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad).
  const msg = new BigUint64Array(7);
  msg[2] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(iov)));
  msg[3] = 1n;
  msg[4] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(control)));
  msg[5] = BigInt(control.length);
  if (libc().sendmsg(sock, new Uint8Array(msg.buffer), MSG_NOSIGNAL) < 0) {
    throw syscallError("sendmsg");
  }
}

/**
 * Sends one message (a packet on SOCK_SEQPACKET).
 * @returns the bytes sent, or -1 when the peer is gone
 */
export function sendBytes(fd: number, bytes: Uint8Array<ArrayBuffer>): number {
  return Number(libc().send(fd, bytes, BigInt(bytes.length), MSG_NOSIGNAL));
}

/**
 * Receives into `buf` on a worker thread: a whole packet on SOCK_SEQPACKET.
 * @returns the bytes received; 0 at the end; negative on error
 */
export async function receive(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<number> {
  return Number(await libc().recv_nb(fd, buf, BigInt(buf.length), 0));
}

/** shutdown(2), ignoring a socket that is already gone. */
export function shutdownSocket(fd: number, how: number): void {
  libc().shutdown(fd, how);
}
