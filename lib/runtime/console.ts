/**
 * A container's pty master seen from the outside: copy bytes both ways and
 * set the window size. The caller supplies the other ends (a terminal, a
 * log, a socket), so this module never touches the user's terminal itself.
 *
 * @module
 */
import { closeFd, readAsync, writeAll } from "../../ffi/fd.ts";
import { getWinSize, makeRaw, setWinSize, type WinSize } from "../../ffi/pty.ts";

export type { WinSize };

/** The two other ends of a console. */
export interface ConsoleEnds {
  /** Reads what the user types; null at end of input. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Takes what the container prints. */
  write(bytes: Uint8Array): void;
}

/**
 * Copies input to the master and the master's output to `ends.write` until
 * the container closes its terminal.
 * @returns a promise that resolves when the output side reaches its end
 */
export async function copyConsole(master: number, ends: ConsoleEnds): Promise<void> {
  let open = true;
  (async () => {
    const buf = new Uint8Array(8192);
    while (open) {
      const n = await ends.read(buf);
      if (n === null || !open) break;
      try {
        writeAll(master, buf.slice(0, n));
      } catch {
        break;
      }
    }
  })();
  const buf = new Uint8Array(8192);
  try {
    for (;;) {
      const n = await readAsync(master, buf);
      if (n <= 0) break;
      ends.write(buf.slice(0, n));
    }
  } finally {
    open = false;
  }
}

/** Sets a console's window size. */
export function resizeConsole(master: number, size: WinSize): void {
  setWinSize(master, size);
}

/** The window size of a terminal fd (e.g. 0 or 1), undefined when it is none. */
export function terminalSize(fd: number): WinSize | undefined {
  return getWinSize(fd);
}

/** Closes a console master. */
export function closeConsole(master: number): void {
  closeFd(master);
}

/**
 * Puts the terminal on `fd` in raw mode (no echo, no line editing, no
 * output processing), as `docker run -t` does with the user's terminal.
 * @returns the function that restores it; a no-op when `fd` is no terminal
 */
export function rawTerminal(fd: number): () => void {
  return makeRaw(fd) ?? (() => {});
}
