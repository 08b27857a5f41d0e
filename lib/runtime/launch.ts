/**
 * Spawns a container's init with the namespaces that only a child can enter
 * (PID, and NET/UTS/IPC): the JS main thread unshares or joins them, spawns
 * berth in init mode, and goes straight back, in one synchronous block (a
 * Deno whose pid_for_children differs cannot start threads).
 *
 * @module
 */
import { closeFd, pipe, setCloexec } from "../../ffi/fd.ts";
import { NAMESPACE_FILES, NAMESPACE_FLAGS, openNs, setns, unshare } from "../../ffi/ns.ts";
import type { ExecInit } from "./exec_init.ts";
import { INIT_ENV, type InitConfig } from "./init_config.ts";
import type { Spec } from "./spec.ts";

/** Which stdio the container gets (Deno.Command's values). */
export interface Stdio {
  stdin?: "inherit" | "piped" | "null";
  stdout?: "inherit" | "piped" | "null";
  stderr?: "inherit" | "piped" | "null";
}

/** A spawned init and the launcher's ends of its pipes. */
export interface Launched {
  child: Deno.ChildProcess;
  /** Read end of the status pipe. */
  status: number;
  /** Write end of the go pipe. */
  go: number;
}

/** Namespaces the launcher (not init) must create or join. */
export const SPAWN_NAMESPACES: readonly string[] = ["pid", "network", "uts", "ipc"];

/**
 * Enters `namespaces` (unshare, or setns to a path) on the main thread,
 * runs `spawn`, and restores the thread's namespaces, all synchronously.
 * @throws {SyscallError} when a namespace cannot be entered or left
 */
export function spawnInNamespaces<T>(
  namespaces: readonly { type: string; path?: string }[],
  spawn: () => T,
): T {
  const saved: [number, number][] = [];
  const opened: number[] = [];
  try {
    let flags = 0;
    for (const ns of namespaces) {
      const flag = NAMESPACE_FLAGS[ns.type]!;
      saved.push([openNs(`/proc/thread-self/ns/${NAMESPACE_FILES[ns.type]}`), flag]);
      if (ns.path === undefined) {
        flags |= flag;
      } else {
        const fd = openNs(ns.path);
        opened.push(fd);
        setns(fd, flag, ns.path);
      }
    }
    if (flags !== 0) unshare(flags);
    return spawn();
  } finally {
    for (const [fd, flag] of saved) {
      setns(fd, flag, "(restore)");
      closeFd(fd);
    }
    for (const fd of opened) closeFd(fd);
  }
}

const INIT_MAIN = new URL("./init_main.ts", import.meta.url).pathname;

/**
 * The argv that starts init from the argv that re-executes berth: a compiled
 * berth runs `berth runtime __init`; under `deno run` (the last argument is
 * the main module) the small init_main.ts entry replaces main.ts.
 */
export function initArgv(self: readonly string[]): string[] {
  const last = self.at(-1);
  if (
    !Deno.build.standalone && last !== undefined && /\.[cm]?[jt]s$/.test(last) &&
    INIT_MAIN.startsWith("/")
  ) {
    return [...self.slice(0, -1), INIT_MAIN];
  }
  return [...self, "runtime", "__init"];
}

/** Options for {@linkcode launchInit}. */
export interface LaunchOptions {
  /** argv that re-executes berth. */
  self: string[];
  stdio?: Stdio;
  pdeathsig?: boolean;
  fifo?: string;
  /** Give the process a pty (created inside the container). */
  console?: boolean;
  /** Join a running container (its namespaces by path) instead of creating one. */
  exec?: ExecInit;
}

/**
 * Spawns `berth runtime __init` for the bundle, in new namespaces per the spec.
 * @throws {SyscallError} when namespaces or pipes fail
 */
export function launchInit(
  spec: Spec,
  bundle: string,
  rootfs: string,
  options: LaunchOptions,
): Launched {
  const [statusR, statusW] = pipe();
  const [goR, goW] = pipe();
  setCloexec(statusR);
  setCloexec(goW);
  const cfg: InitConfig = {
    bundle,
    rootfs,
    status: statusW,
    go: goR,
    pdeathsig: options.pdeathsig ?? false,
    ...(options.fifo === undefined ? {} : { fifo: options.fifo }),
    ...(options.console ? { console: true } : {}),
    ...(options.exec === undefined ? {} : { exec: options.exec }),
  };
  // exec joins the container's own namespaces by path.
  const pid = options.exec?.pid;
  const namespaces = (spec.linux?.namespaces ?? [])
    .filter((n) => SPAWN_NAMESPACES.includes(n.type))
    .map((n) =>
      pid === undefined ? n : { type: n.type, path: `/proc/${pid}/ns/${NAMESPACE_FILES[n.type]}` }
    );
  const [cmd, ...args] = initArgv(options.self);
  try {
    const child = spawnInNamespaces(namespaces, () =>
      new Deno.Command(cmd!, {
        args,
        env: { [INIT_ENV]: JSON.stringify(cfg) },
        stdin: options.stdio?.stdin ?? "inherit",
        stdout: options.stdio?.stdout ?? "inherit",
        stderr: options.stdio?.stderr ?? "inherit",
      }).spawn());
    return { child, status: statusR, go: goW };
  } catch (error) {
    closeFd(statusR);
    closeFd(goW);
    throw error;
  } finally {
    closeFd(statusW);
    closeFd(goR);
  }
}
