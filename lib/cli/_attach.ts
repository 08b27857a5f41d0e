/**
 * Connecting a foreground container (or exec) to this process's terminal:
 * output to stdout/stderr, stdin when `-i`, a raw-mode terminal with window
 * size when `-t`, and signals forwarded to the container as Docker's
 * sig-proxy does.
 *
 * @module
 */
import type { AttachIO } from "../engine/mod.ts";
import { parseSignal, resizeConsole, terminalSize } from "../runtime/mod.ts";
import { writeAllSync } from "./_command.ts";

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** I/O for an attached container, and a function that undoes terminal and signal changes. */
export function attachToTerminal(
  options: { tty: boolean; interactive: boolean },
  kill: (pid: number, signal: number) => void,
): { io: AttachIO; release: () => void } {
  const listeners: [Deno.Signal, () => void][] = [];
  let raw = false;
  const io: AttachIO = {
    output: (stream, bytes) => writeAllSync(stream === "stdout" ? Deno.stdout : Deno.stderr, bytes),
    onStart: (pid, master) => {
      if (master !== undefined) {
        const size = terminalSize(0) ?? terminalSize(1);
        if (size !== undefined) resizeConsole(master, size);
        const onWinch = () => {
          const s = terminalSize(0) ?? terminalSize(1);
          if (s !== undefined) resizeConsole(master, s);
        };
        Deno.addSignalListener("SIGWINCH", onWinch);
        listeners.push(["SIGWINCH", onWinch]);
        return;
      }
      for (const signal of FORWARDED) {
        const forward = () => {
          try {
            kill(pid, parseSignal(signal));
          } catch {
            // it is gone
          }
        };
        Deno.addSignalListener(signal, forward);
        listeners.push([signal, forward]);
      }
    },
  };
  if (options.tty) {
    if (Deno.stdin.isTerminal()) {
      Deno.stdin.setRaw(true);
      raw = true;
    }
    io.console = {
      read: (buf) => (options.interactive ? Deno.stdin.read(buf) : new Promise(() => {})),
      write: (bytes) => writeAllSync(Deno.stdout, bytes),
    };
  } else if (options.interactive) {
    io.stdin = Deno.stdin.readable;
  }
  const release = () => {
    for (const [signal, fn] of listeners) Deno.removeSignalListener(signal, fn);
    if (raw) Deno.stdin.setRaw(false);
  };
  return { io, release };
}
