/**
 * `start`: release a created container's init from the exec FIFO, then (when
 * this process created it) wait for init's exec result.
 *
 * @module
 */
import {
  closeFd,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  openFd,
  readAsync,
  setBlocking,
} from "../../ffi/fd.ts";
import { EngineError } from "../errors.ts";
import type { Container } from "./container.ts";
import { fifoPath, isAlive, readState, requireStatus, type StateRecord, toState } from "./state.ts";
import { initError } from "./_status.ts";
import { loadSpec } from "./create.ts";
import { runHooksQuietly } from "./hooks.ts";
import type { Spec } from "./spec.ts";

/** The bundle's spec, or undefined when it is gone or unreadable. */
export function loadSpecQuietly(bundle: string): Spec | undefined {
  try {
    return loadSpec(bundle);
  } catch {
    return undefined;
  }
}

/**
 * Opens the FIFO for reading, which releases init's blocking open for
 * writing, and reads init's byte; then on to EOF: init keeps its end open
 * (close-on-exec) until it execs, and writes there an error it meets first.
 * Non-blocking open, then blocking reads on a worker thread: no timer on the
 * common path (a first timer costs ~5 ms).
 * @returns "dead" when init died before its byte, else what followed the byte
 */
async function releaseFifo(fifo: string, record: StateRecord): Promise<"dead" | string> {
  const fd = openFd(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  try {
    setBlocking(fd);
    const buf = new Uint8Array(1024);
    for (let i = 0; i < 5000; i++) {
      const n = await readAsync(fd, buf.subarray(0, 1));
      if (n === 1) break;
      // EOF: init has not opened its end yet, or it is gone.
      if (!isAlive(record) || i === 4999) return "dead";
      await new Promise((r) => setTimeout(r, 1));
    }
    const decoder = new TextDecoder();
    let rest = "";
    for (let n; (n = await readAsync(fd, buf)) > 0;) {
      rest += decoder.decode(buf.subarray(0, n), { stream: true });
    }
    return rest;
  } finally {
    closeFd(fd);
  }
}

/** The error init wrote on the FIFO after start, or undefined. */
function fifoError(rest: string): EngineError | undefined {
  const line = rest.split("\n")[0]!;
  if (line === "") return undefined;
  try {
    const message = JSON.parse(line);
    if (typeof message.error === "string") return initError(message);
  } catch {
    // not init's
  }
  return new EngineError(`Container init failed after start: "${line}"`);
}

/**
 * Starts a created container.
 * @param target the handle from {@linkcode createContainer}, or `{stateRoot, id}`
 * @param options.onWarning gets a line for each poststart hook that failed (start goes on)
 * @throws {NotFoundError} no such container; {ConflictError} not in "created";
 *   {EngineError} init failed (126/127 when the command cannot run)
 */
export async function startContainer(
  target: Container | { stateRoot: string; id: string },
  options: { onWarning?: (message: string) => void } = {},
): Promise<void> {
  const record = readState(target.stateRoot, target.id);
  requireStatus(toState(target.stateRoot, record), ["created"], "start");
  const fifo = fifoPath(target.stateRoot, target.id);
  const released = await releaseFifo(fifo, record);
  Deno.removeSync(fifo);
  const status = "status" in target ? target.status : undefined;
  if (status !== undefined) {
    const message = await status.next();
    status.close();
    if (message !== undefined && "error" in message) throw initError(message);
  }
  const failed = released === "dead" ? undefined : fifoError(released);
  if (failed !== undefined) throw failed;
  if (released === "dead") {
    // Say how init ended when this process holds it: a signal points at a killer, a code at init.
    const child = "child" in target ? target.child : undefined;
    const ended = child === undefined ? undefined : await Promise.race([
      child.status.then((s) => (s.signal !== null ? `signal ${s.signal}` : `status ${s.code}`)),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)),
    ]);
    throw new EngineError(
      `Cannot start container "${target.id}": its init exited${ended ? ` (${ended})` : ""}`,
    );
  }
  const spec = "spec" in target ? target.spec : loadSpecQuietly(record.bundle);
  if (spec?.hooks?.poststart) {
    await runHooksQuietly(
      spec.hooks.poststart,
      toState(target.stateRoot, record),
      { stage: "poststart", onWarning: options.onWarning },
    );
  }
}
