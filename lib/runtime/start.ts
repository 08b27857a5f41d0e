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
 * writing, and reads init's byte. Non-blocking open, then a blocking read on
 * a worker thread: no timer on the common path (a first timer costs ~5 ms).
 * @returns false when init died instead
 */
async function releaseFifo(fifo: string, record: StateRecord): Promise<boolean> {
  const fd = openFd(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  try {
    setBlocking(fd);
    const buf = new Uint8Array(1);
    for (let i = 0; i < 5000; i++) {
      if (await readAsync(fd, buf) === 1) return true;
      // EOF: init has not opened its end yet, or it is gone.
      if (!isAlive(record)) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
    return false;
  } finally {
    closeFd(fd);
  }
}

/**
 * Starts a created container.
 * @param target the handle from {@linkcode createContainer}, or `{stateRoot, id}`
 * @throws {NotFoundError} no such container; {ConflictError} not in "created";
 *   {EngineError} init failed (126/127 when the command cannot run)
 */
export async function startContainer(
  target: Container | { stateRoot: string; id: string },
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
  if (!released) {
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
    await runHooksQuietly(spec.hooks.poststart, toState(target.stateRoot, record));
  }
}
