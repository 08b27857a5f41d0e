/**
 * The monitor's job for one container: start it through the runtime, copy
 * its output to the json-file log (and to an attached terminal), wait for its
 * exit, record the exit in the container's state, apply the restart policy,
 * and clean up. The foreground `run` does this in the CLI process; `run -d`
 * and `start` in a detached `berth` re-executed as a monitor.
 *
 * @module
 */
import { containerEvent } from "./events.ts";
import { connectNetwork, disconnectNetwork, joinNetworkNamespace } from "./container_network.ts";
import { describeError, EngineError, exitCodeOf } from "../errors.ts";
import {
  closeConsole,
  type ConsoleEnds,
  copyConsole,
  createContainer,
  deleteContainer,
  type EarlyInit,
  type ExitResult,
  resizeConsole,
  startContainer,
  waitContainer,
} from "../runtime/mod.ts";
import { type ContainerStore, markEnded, markRunning, startTimeOf } from "./container_record.ts";
import { logFile, LogWriter } from "./container_logs.ts";
import { refreshSecurityDefaults } from "./container_create.ts";
import { prepareVolumes } from "./container_mounts.ts";
import { ensureHealthd } from "./health.ts";
import { AttachHub, attachSocketPath, type AttachTarget } from "./container_attach.ts";

/** Where a supervised container's I/O goes besides its log. */
export interface AttachIO {
  /** The container's stdin (`-i`), when not a terminal. */
  stdin?: ReadableStream<Uint8Array>;
  /** Output as it arrives (the foreground `run`). */
  output?: (stream: "stdout" | "stderr", bytes: Uint8Array) => void;
  /** The user's terminal, for a container with `-t`. */
  console?: ConsoleEnds;
  /** Called once the container runs, with its pid and pty master (if any). */
  onStart?: (pid: number, master: number | undefined) => void;
  /** The attach socket, when the caller opened it already (the monitor); else one is opened here. */
  hub?: AttachHub;
  /**
   * An init the caller started early (piped stdout/stderr, or no stdio for a
   * tty, and pdeathsig), for the first start; the caller still discards it.
   */
  init?: EarlyInit;
}

/** What the supervisor needs to know about berth. */
export interface SuperviseContext {
  containers: ContainerStore;
  /** argv that re-executes berth. */
  self: string[];
  /** The runtime's state directory. */
  runtimeRoot: string;
  /** berth's runtime state root (`--run-root`): attach sockets live under it. */
  runRoot: string;
}

/**
 * Runs container `id` until it ends for good (restarts included).
 * @returns the last exit
 * @throws {EngineError} when it cannot start (126/127 for its command); the error is recorded in its state
 */
export async function superviseContainer(
  ctx: SuperviseContext,
  id: string,
  io: AttachIO = {},
): Promise<ExitResult> {
  const hub = io.hub ?? AttachHub.listen(attachSocketPath(ctx.runRoot, id));
  const log = new LogWriter(logFile(ctx.containers.path(id), id));
  let last: ExitResult | undefined;
  let init = io.init;
  try {
    for (let delay = 100;; delay = Math.min(delay * 2, 60_000)) {
      last = await runOnce(ctx, id, io, log, hub, init);
      init = undefined;
      if (!ctx.containers.read(id).State.Restarting) return last;
      // Docker ends an attach when the container stops, restart or not.
      hub.setTarget(
        undefined,
        "You cannot attach to a restarting container, wait until it is running",
      );
      await hub.finish(last.exitCode);
      await new Promise((resolve) => setTimeout(resolve, delay));
      const record = ctx.containers.update(id, (r) => {
        if (r.StoppedByUser) {
          r.State.Status = "exited";
          r.State.Restarting = false;
          delete r.Monitor;
        } else {
          r.RestartCount++;
        }
      });
      if (!record.State.Restarting) return last;
    }
  } finally {
    log.close();
    hub.setTarget(undefined, "You cannot attach to a stopped container, start it first");
    if (io.hub === undefined) {
      if (last !== undefined) await hub.finish(last.exitCode);
      hub.close();
    }
  }
}

async function runOnce(
  ctx: SuperviseContext,
  id: string,
  io: AttachIO,
  log: LogWriter,
  hub: AttachHub,
  init: EarlyInit | undefined,
): Promise<ExitResult> {
  const record = ctx.containers.read(id);
  const openStdin = io.stdin !== undefined || record.Config.OpenStdin;
  const bundle = `${ctx.containers.path(id)}/bundle`;
  const tty = record.Config.Tty;
  let container;
  try {
    // A previous run killed with its monitor may have left runtime state behind.
    await deleteContainer(ctx.runtimeRoot, id, { force: true }).catch(() => {});
    refreshSecurityDefaults(record, ctx.containers.path(id), ctx.containers.tmpDir);
    prepareVolumes(ctx.containers, record);
    joinNetworkNamespace(ctx.containers, record, bundle);
    container = await createContainer(bundle, id, {
      self: ctx.self,
      beforeSetup: (pid) => connectNetwork(ctx.containers, id, pid),
      stateRoot: ctx.runtimeRoot,
      stdio: tty ? { stdin: "null", stdout: "null", stderr: "null" } : {
        stdin: openStdin ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
      },
      pdeathsig: true,
      ...(init === undefined ? {} : { init }),
    });
    await startContainer(container);
  } catch (error) {
    if (container !== undefined) {
      try {
        container.child.kill("SIGKILL");
      } catch {
        // it ended already: its own error is the one to report
      }
      await container.child.status.catch(() => {});
    }
    await deleteContainer(ctx.runtimeRoot, id, { force: true }).catch(() => {});
    await disconnectNetwork(ctx.containers, id).catch(() => {});
    ctx.containers.update(id, (r) => {
      r.State.Error = describeError(error);
      r.State.ExitCode = exitCodeOf(error);
      r.State.Status = r.RestartCount > 0 ? "exited" : "created";
      r.State.Restarting = false;
      delete r.Monitor;
    });
    throw error instanceof EngineError
      ? error
      : new EngineError("Cannot start container", { cause: error });
  }
  const now = new Date().toISOString();
  ctx.containers.update(id, (r) => {
    markRunning(r, container.pid, now);
    r.Monitor = { pid: Deno.pid, startTime: startTimeOf(Deno.pid) ?? "" };
  });
  containerEvent(ctx.containers, "start", id);
  ensureHealthd(ctx, id);
  io.onStart?.(container.pid, container.console);
  const pumps: Promise<void>[] = [];
  const emit = (stream: "stdout" | "stderr", bytes: Uint8Array) => {
    log.write(stream, bytes);
    io.output?.(stream, bytes);
    hub.output(stream, bytes);
  };
  const target: AttachTarget = {};
  if (container.console !== undefined) {
    const master = container.console;
    const input = new InputQueue();
    if (record.Config.OpenStdin) target.write = (bytes) => input.push(bytes);
    target.resize = (rows, cols) => resizeConsole(master, { rows, cols });
    const read = io.console?.read ?? ((buf: Uint8Array) => input.read(buf));
    pumps.push(copyConsole(master, { read, write: (b) => emit("stdout", b) }));
  } else {
    pumps.push(pump(container.child.stdout, (b) => emit("stdout", b)));
    pumps.push(pump(container.child.stderr, (b) => emit("stderr", b)));
    if (io.stdin) {
      io.stdin.pipeTo(container.child.stdin).catch(() => {});
    } else if (record.Config.OpenStdin) {
      const writer = container.child.stdin.getWriter();
      target.write = (bytes) => void writer.write(bytes).catch(() => {});
      if (record.Config.StdinOnce) target.closeStdin = () => void writer.close().catch(() => {});
    }
  }
  hub.setTarget(target);
  const result = await waitContainer(container);
  await Promise.race([Promise.all(pumps), new Promise((r) => setTimeout(r, 2000))]);
  if (container.console !== undefined) closeConsole(container.console);
  await deleteContainer(ctx.runtimeRoot, id, { force: true }).catch(() => {});
  await disconnectNetwork(ctx.containers, id).catch(() => {});
  ctx.containers.update(id, (r) => {
    if (markEnded(r, result.exitCode, result.oomKilled)) {
      r.Monitor = { pid: Deno.pid, startTime: startTimeOf(Deno.pid) ?? "" };
    } else {
      delete r.Monitor;
    }
  });
  containerEvent(ctx.containers, "die", id, { exitCode: String(result.exitCode) });
  return result;
}

/** Input from attached clients, read by the pty copier. */
class InputQueue {
  #chunks: Uint8Array[] = [];
  #waiting: (() => void) | undefined;

  push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#waiting?.();
  }

  async read(buf: Uint8Array): Promise<number> {
    while (this.#chunks.length === 0) {
      await new Promise<void>((resolve) => (this.#waiting = resolve));
      this.#waiting = undefined;
    }
    const head = this.#chunks[0]!;
    const n = Math.min(head.length, buf.length);
    buf.set(head.subarray(0, n));
    if (n === head.length) this.#chunks.shift();
    else this.#chunks[0] = head.subarray(n);
    return n;
  }
}

async function pump(
  stream: ReadableStream<Uint8Array> | null,
  sink: (bytes: Uint8Array) => void,
): Promise<void> {
  if (stream === null) return;
  try {
    for await (const chunk of stream) sink(chunk);
  } catch {
    // the container closed its end
  }
}
