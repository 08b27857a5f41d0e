/**
 * Spawns a container's init with the namespaces that only a child can enter
 * (PID, and NET/UTS/IPC): the JS main thread unshares or joins them, spawns
 * berth in init mode, and goes straight back, in one synchronous block (a
 * Deno whose pid_for_children differs cannot start threads).
 *
 * @module
 */
import { closeFd, pipe, setCloexec } from "../../ffi/fd.ts";
import { NAMESPACE_FILES, NAMESPACE_FLAGS, nsType, openNs, setns, unshare } from "../../ffi/ns.ts";
import { InvalidError } from "../errors.ts";
import { type ExecInit, INIT_ENV, type InitConfig } from "./init_config.ts";
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

/** IPC sysctls (plus `fs.mqueue.*`): those of the container's IPC namespace, as runc lists them. */
const IPC_SYSCTLS = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);

/** The namespace type a sysctl lives in, or undefined for one the host has only once. */
function sysctlNamespace(key: string): string | undefined {
  if (IPC_SYSCTLS.has(key) || key.startsWith("fs.mqueue.")) return "ipc";
  if (key.startsWith("net.")) return "network";
  if (key === "kernel.hostname" || key === "kernel.domainname") return "uts";
  return undefined;
}

const sameFile = (a: string, b: string) => {
  const [x, y] = [Deno.statSync(a), Deno.statSync(b)];
  return x.dev === y.dev && x.ino === y.ino;
};

const TYPE_OF_FLAG = new Map(Object.entries(NAMESPACE_FLAGS).map(([type, flag]) => [flag, type]));

/** Opens a namespace path and checks it is a namespace of `type`; returns the fd. */
function openNsOfType(path: string, type: string, field: string): number {
  let fd: number;
  try {
    fd = openNs(path);
  } catch (error) {
    throw new InvalidError(`Invalid config.json: cannot open ${field} "${path}"`, { cause: error });
  }
  try {
    const actual = TYPE_OF_FLAG.get(nsType(fd, path));
    if (actual !== type) {
      throw new InvalidError(
        `Invalid config.json: ${field} "${path}" is a "${actual}" namespace, not "${type}"`,
      );
    }
    return fd;
  } catch (error) {
    closeFd(fd);
    if (error instanceof InvalidError) throw error;
    throw new InvalidError(`Invalid config.json: ${field} "${path}" is not a namespace`, {
      cause: error,
    });
  }
}

/**
 * Checks `linux.namespaces` against what the runtime-spec asks and what
 * would otherwise change the host, before anything is made: each type once,
 * each path a namespace of its type (the mount one not the caller's), and
 * no hostname or namespaced sysctl without its namespace (it would be the host's).
 * @throws {InvalidError} naming the field (exit 125)
 */
export function checkNamespaces(spec: Spec): void {
  const listed = new Map<string, string | undefined>();
  (spec.linux?.namespaces ?? []).forEach((ns, i) => {
    if (listed.has(ns.type)) {
      throw new InvalidError(`Invalid config.json: "linux.namespaces" lists "${ns.type}" twice`);
    }
    listed.set(ns.type, ns.path);
    if (ns.path !== undefined) {
      closeFd(openNsOfType(ns.path, ns.type, `"linux.namespaces[${i}].path"`));
      // Joined, it would take the root's propagation, pivot_root and the old root's detach.
      if (ns.type === "mount" && sameFile(ns.path, "/proc/self/ns/mnt")) {
        throw new InvalidError(
          `Invalid config.json: "linux.namespaces[${i}].path" is the caller's mount namespace: ` +
            `leave "mount" out to share it`,
        );
      }
    }
  });
  const linux = (spec.linux ?? {}) as Record<string, unknown>;
  for (const field of ["uidMappings", "gidMappings"]) {
    const maps = linux[field];
    if (Array.isArray(maps) && maps.length > 0 && !listed.has("user")) {
      throw new InvalidError(`Invalid config.json: "linux.${field}" needs a "user" namespace`);
    }
  }
  if ((spec.hostname || spec.domainname) && !listed.has("uts")) {
    const field = spec.hostname ? "hostname" : "domainname";
    throw new InvalidError(`Invalid config.json: "${field}" needs a "uts" namespace`);
  }
  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    const type = sysctlNamespace(key);
    if (type === undefined) {
      throw new InvalidError(
        `Invalid config.json: sysctl "${key}" is not in a namespace: it would change the host`,
      );
    }
    const path = listed.get(type);
    if (
      !listed.has(type) ||
      (path !== undefined && sameFile(path, `/proc/self/ns/${NAMESPACE_FILES[type]}`))
    ) {
      throw new InvalidError(`Invalid config.json: sysctl "${key}" needs a "${type}" namespace`);
    }
  }
}

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
const EXEC_MAIN = new URL("./exec_main.ts", import.meta.url).pathname;

/**
 * The argv that starts init from the argv that re-executes berth: a compiled
 * berth runs `berth runtime __init`; under `deno run` (the last argument is
 * the main module) the small init_main.ts entry replaces main.ts, or for
 * `exec` the smaller exec_main.ts.
 */
export function initArgv(self: readonly string[], exec = false): string[] {
  const last = self.at(-1);
  const entry = exec ? EXEC_MAIN : INIT_MAIN;
  if (
    !Deno.build.standalone && last !== undefined && /\.[cm]?[jt]s$/.test(last) &&
    entry.startsWith("/")
  ) {
    return [...self.slice(0, -1), entry];
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
  const [cmd, ...args] = initArgv(options.self, options.exec !== undefined);
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
