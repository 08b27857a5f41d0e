/**
 * Connecting a foreground container (or exec) to this process's terminal:
 * output to stdout/stderr, stdin when `-i`, a raw-mode terminal with window
 * size when `-t`, and signals forwarded to the container as Docker's
 * sig-proxy does.
 *
 * @module
 */
import { EngineError } from "../errors.ts";
import type { AttachClient, AttachEnd, AttachIO } from "../engine/mod.ts";
import { kill } from "../../ffi/proc.ts";
import { DetachScanner } from "./_detach_keys.ts";
import { parseSignal, rawTerminal, resizeConsole, terminalSize } from "../runtime/mod.ts";
import { writeAllSync } from "./_command.ts";

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** Sends a signal to a container's init, ignoring one that is gone. */
export function signalPid(pid: number): (signal: Deno.Signal) => void {
  return (signal) => {
    try {
      kill(pid, parseSignal(signal));
    } catch {
      // it is gone
    }
  };
}

/** A session's end as an exit status; a lost monitor is an error. */
export function sessionStatus(end: AttachEnd, onDetach: number): number {
  if (end.kind === "exit") return end.exitCode;
  if (end.kind === "detached") return onDetach;
  throw new EngineError("The container's monitor exited unexpectedly");
}

/** I/O for an attached container, and a function that undoes terminal and signal changes. */
export function attachToTerminal(
  options: { tty: boolean; interactive: boolean },
): { io: AttachIO; release: () => void } {
  const listeners: [Deno.Signal, () => void][] = [];
  let restore = () => {};
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
      const send = signalPid(pid);
      for (const signal of FORWARDED) {
        const forward = () => send(signal);
        Deno.addSignalListener(signal, forward);
        listeners.push([signal, forward]);
      }
    },
  };
  if (options.tty) {
    // cfmakeraw: no echo, no line editing, and no output processing, so the
    // container's own \r\n reaches the screen once.
    if (Deno.stdin.isTerminal()) restore = rawTerminal(0);
    io.console = {
      read: (buf) => (options.interactive ? Deno.stdin.read(buf) : new Promise(() => {})),
      write: (bytes) => writeAllSync(Deno.stdout, bytes),
    };
  } else if (options.interactive) {
    io.stdin = Deno.stdin.readable;
  }
  const release = () => {
    for (const [signal, fn] of listeners) Deno.removeSignalListener(signal, fn);
    restore();
  };
  return { io, release };
}

/** How an attach session joins the user's terminal to a container's monitor. */
export interface SessionOptions {
  /** The container has a pty (`-t`). */
  tty: boolean;
  /** Send this process's stdin. */
  stdin: boolean;
  /** The detach sequence, recognised on a tty as Docker does. */
  detachKeys: Uint8Array;
  /** Forwards a signal to the container (sig-proxy; not on a tty, where ^C is a byte). */
  signal?: (signal: Deno.Signal) => void;
}

/** The terminal's size, for a `-t` container started attached to it. */
export function ttySize(tty: boolean): { consoleSize?: { rows: number; cols: number } } {
  const size = tty ? terminalSize(0) ?? terminalSize(1) : undefined;
  return size === undefined ? {} : { consoleSize: { rows: size.rows, cols: size.cols } };
}

/**
 * Runs an attach session until the container exits, the user detaches, or
 * the monitor goes away.
 */
export async function attachSession(
  client: AttachClient,
  options: SessionOptions,
): Promise<AttachEnd> {
  const listeners: [Deno.Signal, () => void][] = [];
  let restore = () => {};
  if (options.tty) {
    if (options.stdin && Deno.stdin.isTerminal()) restore = rawTerminal(0);
    const sendSize = () => {
      const size = terminalSize(0) ?? terminalSize(1);
      if (size !== undefined) void client.resize(size.rows, size.cols);
    };
    sendSize();
    Deno.addSignalListener("SIGWINCH", sendSize);
    listeners.push(["SIGWINCH", sendSize]);
  } else if (options.signal !== undefined) {
    for (const signal of FORWARDED) {
      const forward = () => options.signal!(signal);
      Deno.addSignalListener(signal, forward);
      listeners.push([signal, forward]);
    }
  }
  if (options.stdin) {
    (async () => {
      const scanner = options.tty ? new DetachScanner(options.detachKeys) : undefined;
      const buf = new Uint8Array(32 * 1024);
      for (;;) {
        let n: number | null;
        try {
          n = await Deno.stdin.read(buf);
        } catch {
          n = null;
        }
        if (n === null) {
          await client.closeStdin();
          return;
        }
        const { pass, detach } = scanner?.feed(buf.subarray(0, n)) ??
          { pass: buf.slice(0, n), detach: false };
        if (pass.length > 0) await client.write(pass);
        if (detach) {
          client.close();
          return;
        }
      }
    })();
  }
  try {
    return await client.receive((stream, bytes) =>
      writeAllSync(stream === "stdout" ? Deno.stdout : Deno.stderr, bytes)
    );
  } finally {
    for (const [signal, fn] of listeners) Deno.removeSignalListener(signal, fn);
    restore();
  }
}
