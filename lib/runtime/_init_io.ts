/**
 * What both init modes share: the status line to the launcher and taking
 * a pty slave as the controlling terminal.
 *
 * @module
 */
import { dup2, setCloexec, writeAll } from "../../ffi/fd.ts";
import { setsid } from "../../ffi/proc.ts";
import { openPtyAt, openTty, setControllingTty } from "../../ffi/pty.ts";

const encoder = new TextEncoder();

/** Sends one JSON line to the launcher; ignores a launcher that is gone. */
export function report(fd: number, message: Record<string, unknown>): void {
  try {
    writeAll(fd, encoder.encode(`${JSON.stringify(message)}\n`));
  } catch {
    // The launcher went away; the exit status still tells.
  }
}

/**
 * Creates the container's pty in the devpts mounted at `<root>/dev/pts`,
 * and makes its slave the controlling terminal and stdio.
 * @returns the master fd (close-on-exec; the launcher takes a copy) and the slave's path
 */
export function openConsole(root: string): { master: number; slave: string } {
  const base = root === "/" ? "" : root;
  const { master, index } = openPtyAt(`${base}/dev/pts/ptmx`);
  const slave = `${base}/dev/pts/${index}`;
  useConsole(slave);
  return { master, slave };
}

/** New session with the pty slave at `path` as controlling terminal and stdio. */
export function useConsole(path: string): void {
  setsid();
  const fd = openTty(path);
  setControllingTty(fd);
  for (const n of [0, 1, 2]) dup2(fd, n);
  if (fd > 2) setCloexec(fd);
}
