/**
 * `exec`: run another process in a running container, joining its
 * namespaces, cgroup and root (what `docker exec` needs).
 *
 * In two steps, so that the exec's init boots (a Deno start, ~20 ms) while
 * the caller works out the process: {@linkcode startExec} spawns init in the
 * container's namespaces and puts it in the container's cgroup, and
 * {@linkcode PendingExec.run} sends it the process. This module loads only
 * what the spawn needs; the rest (exec_process.ts) loads meanwhile.
 *
 * @module
 */
import { closeFd } from "../../ffi/fd.ts";
import { ConflictError } from "../errors.ts";
import { joinCgroupAsync } from "./cgroup_procs.ts";
import type { Container } from "./container.ts";
import { type Launched, launchInit, type Stdio } from "./launch.ts";
import { loadSpec, type Process, type Spec } from "./spec.ts";
import { procStat, readState, requireStatus, type StateRecord, toState } from "./state.ts";

/** What to run; unset fields come from the container's config.json. */
export interface ExecProcess {
  args: string[];
  /** Replaces the container's environment when given. */
  env?: string[];
  /** Added to the environment (after `env` or the container's). */
  extraEnv?: string[];
  cwd?: string;
  user?: Process["user"];
  terminal?: boolean;
  /** The pty's initial size, set before the process runs. */
  consoleSize?: { height: number; width: number };
  /** Replaces the container's capabilities when given (runtime exec --process). */
  capabilities?: Process["capabilities"];
  /** Grant every capability (docker exec --privileged). @default false */
  privileged?: boolean;
}

/** Options for {@linkcode execInContainer} and {@linkcode startExec}. */
export interface ExecOptions {
  /** argv that re-executes berth. */
  self: string[];
  stdio?: Stdio;
  /** Kill the process when this one dies. @default true */
  pdeathsig?: boolean;
}

/** Options for {@linkcode startExec}: what must be known before init starts. */
export interface StartExecOptions extends ExecOptions {
  /** The process gets a pty (created inside the container). @default false */
  terminal?: boolean;
}

type Late = typeof import("./exec_process.ts");

/** An exec's init, started in the container's namespaces and waiting for its process. */
export class PendingExec {
  /** The container's state record. */
  readonly record: StateRecord;
  readonly #stateRoot: string;
  readonly #spec: Spec;
  readonly #specStat: Deno.FileInfo;
  readonly #launched: Launched;
  readonly #terminal: boolean;
  readonly #late: Promise<Late>;
  readonly #joined: Promise<void>;
  #done = false;

  /** @internal */
  constructor(
    stateRoot: string,
    state: { record: StateRecord; spec: Spec; specStat: Deno.FileInfo },
    launched: Launched,
    terminal: boolean,
    late: Promise<Late>,
  ) {
    this.#stateRoot = stateRoot;
    this.record = state.record;
    this.#spec = state.spec;
    this.#specStat = state.specStat;
    this.#launched = launched;
    this.#terminal = terminal;
    this.#late = late;
    // The first write to a cgroup.procs waits out an RCU grace period (10-17 ms): on threads.
    this.#joined = joinCgroupAsync(state.record.cgroup, launched.child.pid);
    this.#joined.catch(() => {});
  }

  /** The container's config.json as it is now (reread when the caller rewrote it since). */
  spec(): Spec {
    const now = Deno.statSync(`${this.record.bundle}/config.json`);
    if (
      now.ino === this.#specStat.ino && now.mtime?.getTime() === this.#specStat.mtime?.getTime()
    ) {
      return this.#spec;
    }
    return loadSpec(this.record.bundle);
  }

  /**
   * Sends `process` to init once it is in the container's cgroup, and waits
   * until it runs.
   * @returns a handle for {@linkcode waitContainer} (its `pid` is the exec'd process)
   * @throws {ConflictError} when the container stopped meanwhile;
   *   {EngineError} 126/127 when the command cannot run
   */
  async run(process: ExecProcess): Promise<Container> {
    if (this.#done) throw new Error("PendingExec.run() called twice");
    this.#done = true;
    const late = await this.#late;
    return await late.runExec({
      stateRoot: this.#stateRoot,
      record: this.record,
      spec: this.spec(),
      launched: this.#launched,
      terminal: this.#terminal,
      joined: this.#joined,
    }, process);
  }

  /** Kills and reaps init, when {@linkcode run} was not called (idempotent). */
  async discard(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    killInit(this.#launched);
    closeFd(this.#launched.status);
    closeFd(this.#launched.go);
    await this.#launched.child.status;
    await this.#joined.catch(() => {});
  }
}

/**
 * Kills init and gives up its piped stdio (nobody reads it: it would stay
 * open as resources of this process); its pipe ends are the caller's to close.
 */
export function killInit(launched: Launched): void {
  const child = launched.child;
  try {
    child.kill("SIGKILL");
  } catch {
    // gone
  }
  for (
    const end of [
      () => child.stdin.close(),
      () => child.stdout.cancel(),
      () => child.stderr.cancel(),
    ]
  ) {
    try {
      end().catch(() => {});
    } catch {
      // not piped
    }
  }
}

/**
 * Spawns the init of an exec in the running container `id`: in its
 * PID/NET/UTS/IPC namespaces, joining its cgroup, waiting for
 * {@linkcode PendingExec.run}.
 * @throws {NotFoundError} no such container; {ConflictError} not running
 */
export function startExec(
  stateRoot: string,
  id: string,
  options: StartExecOptions,
): PendingExec {
  const record = readState(stateRoot, id);
  requireStatus(toState(stateRoot, record), ["running"], "exec in");
  const spec = loadSpec(record.bundle);
  const specStat = Deno.statSync(`${record.bundle}/config.json`);
  const terminal = options.terminal ?? false;
  const launched = launchInit(spec, record.bundle, record.rootfs, {
    self: options.self,
    ...(options.stdio ? { stdio: options.stdio } : {}),
    pdeathsig: options.pdeathsig ?? true,
    ...(terminal ? { console: true } : {}),
    exec: {
      pid: record.pid,
      startTime: record.startTime,
      id,
      cgroupns: (spec.linux?.namespaces ?? []).some((n) => n.type === "cgroup"),
    },
  });
  // The namespaces were joined through /proc/PID: the container's only if PID is still its process.
  const stat = procStat(record.pid);
  if (stat === undefined || stat.startTime !== record.startTime || stat.state === "Z") {
    killInit(launched);
    closeFd(launched.status);
    closeFd(launched.go);
    throw new ConflictError(`Cannot exec in container "${id}": container is stopped`);
  }
  return new PendingExec(
    stateRoot,
    { record, spec, specStat },
    launched,
    terminal,
    import("./exec_process.ts"),
  );
}

/**
 * Starts `process` in the running container `id`.
 * @returns a handle for {@linkcode waitContainer} (its `pid` is the exec'd process)
 * @throws {NotFoundError} no such container; {ConflictError} not running;
 *   {EngineError} 126/127 when the command cannot run
 */
export async function execInContainer(
  stateRoot: string,
  id: string,
  process: ExecProcess,
  options: ExecOptions,
): Promise<Container> {
  const pending = startExec(stateRoot, id, { ...options, terminal: process.terminal ?? false });
  return await pending.run(process);
}
