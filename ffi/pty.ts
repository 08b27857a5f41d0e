/**
 * Pseudo-terminals: open one in a given devpts instance, make a tty
 * controlling, raw mode, and get/set the window size.
 *
 * @module
 */
import { cstr, libc, syscallError } from "./libc.ts";
import { O_CLOEXEC, O_NOCTTY, O_RDWR } from "./fd.ts";

const TIOCSCTTY = 0x540en;
const TIOCGWINSZ = 0x5413n;
const TIOCSWINSZ = 0x5414n;
const TIOCGPTN = 0x80045430n;
const TIOCSPTLCK = 0x40045431n;

/**
 * Opens a new pty through a devpts instance's `ptmx` (e.g. a container's
 * `<rootfs>/dev/pts/ptmx`), unlocks it and returns its number.
 * @returns the master fd (close-on-exec) and the slave's index N (`pts/N`)
 * @throws {SyscallError}
 */
export function openPtyAt(ptmx: string): { master: number; index: number } {
  const c = libc();
  const master = c.open(cstr(ptmx), O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
  if (master < 0) throw syscallError("open", ptmx);
  const n = new Int32Array(1);
  if (
    c.ioctl(master, TIOCSPTLCK, new Uint8Array(n.buffer)) !== 0 ||
    c.ioctl(master, TIOCGPTN, new Uint8Array(n.buffer)) !== 0
  ) {
    const error = syscallError("ioctl(TIOCGPTN)", ptmx);
    c.close(master);
    throw error;
  }
  return { master, index: n[0]! };
}

/**
 * ioctl(TIOCSCTTY): makes `fd` the controlling terminal of this session.
 * @throws {SyscallError}
 */
export function setControllingTty(fd: number): void {
  if (libc().ioctl_int(fd, TIOCSCTTY, 0n) !== 0) throw syscallError("ioctl(TIOCSCTTY)");
}

/** A terminal's size in character cells. */
export interface WinSize {
  rows: number;
  cols: number;
}

/** ioctl(TIOCGWINSZ); undefined when `fd` is not a terminal. */
export function getWinSize(fd: number): WinSize | undefined {
  const ws = new Uint16Array(4);
  if (libc().ioctl(fd, TIOCGWINSZ, new Uint8Array(ws.buffer)) !== 0) return undefined;
  return { rows: ws[0]!, cols: ws[1]! };
}

/** ioctl(TIOCSWINSZ), ignoring failure (the pty may be gone). */
export function setWinSize(fd: number, size: WinSize): void {
  const ws = new Uint16Array([size.rows, size.cols, 0, 0]);
  libc().ioctl(fd, TIOCSWINSZ, new Uint8Array(ws.buffer));
}

/** Opens a tty path read-write (for the slave side), not close-on-exec. */
export function openTty(path: string): number {
  const fd = libc().open(cstr(path), O_RDWR, 0);
  if (fd < 0) throw syscallError("open", path);
  return fd;
}

const TCSANOW = 0;

/**
 * Puts a terminal in raw mode as cfmakeraw(3) does (output processing off
 * too, unlike Deno's setRaw), and returns the function that restores it.
 * @returns undefined when `fd` is not a terminal
 */
export function makeRaw(fd: number): (() => void) | undefined {
  const saved = new Uint8Array(64);
  if (libc().tcgetattr(fd, saved) !== 0) return undefined;
  const raw = saved.slice();
  libc().cfmakeraw(raw);
  libc().tcsetattr(fd, TCSANOW, raw);
  return () => void libc().tcsetattr(fd, TCSANOW, saved);
}
