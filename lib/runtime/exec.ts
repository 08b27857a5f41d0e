/**
 * `exec`: run another process in a running container, joining its
 * namespaces, cgroup and root (what `docker exec` needs).
 *
 * @module
 */
import { CAPABILITIES } from "../../ffi/caps.ts";
import { closeFd, writeAll } from "../../ffi/fd.ts";
import { takeFd } from "../../ffi/proc.ts";
import { setWinSize } from "../../ffi/pty.ts";
import { joinCgroup } from "./cgroup.ts";
import type { Container } from "./container.ts";
import { loadSpec } from "./create.ts";
import { type Launched, launchInit, type Stdio } from "./launch.ts";
import type { Process } from "./spec.ts";
import { readState, requireStatus, toState } from "./state.ts";
import { initError, StatusReader } from "./_status.ts";

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
  /** Grant every capability (docker exec --privileged). @default false */
  privileged?: boolean;
}

/** Options for {@linkcode execInContainer}. */
export interface ExecOptions {
  /** argv that re-executes berth. */
  self: string[];
  stdio?: Stdio;
  /** Kill the process when this one dies. @default true */
  pdeathsig?: boolean;
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
  const record = readState(stateRoot, id);
  requireStatus(toState(stateRoot, record), ["running"], "exec in");
  const spec = loadSpec(record.bundle);
  const base = spec.process;
  const p: Process = {
    ...base,
    args: process.args,
    env: [...(process.env ?? base.env ?? []), ...(process.extraEnv ?? [])],
    cwd: process.cwd ?? base.cwd,
    user: process.user ?? base.user,
    terminal: process.terminal ?? false,
  };
  if (process.privileged) {
    const all = Object.keys(CAPABILITIES);
    // No inheritable ones, as Docker since CVE-2022-24769: a file's inheritable caps stay unearned.
    p.capabilities = { bounding: all, effective: all, permitted: all };
  }
  let master: number | undefined;
  let launched: Launched | undefined;
  let status: StatusReader | undefined;
  try {
    launched = launchInit(spec, record.bundle, record.rootfs, {
      self: options.self,
      ...(options.stdio ? { stdio: options.stdio } : {}),
      pdeathsig: options.pdeathsig ?? true,
      ...(p.terminal ? { console: true } : {}),
      exec: {
        pid: record.pid,
        id,
        cgroupns: (spec.linux?.namespaces ?? []).some((n) => n.type === "cgroup"),
        process: p,
        ...(spec.linux?.seccomp && !process.privileged ? { seccomp: spec.linux.seccomp } : {}),
      },
    });
    status = new StatusReader(launched.status);
    joinCgroup(record.cgroup, launched.child.pid);
    writeAll(launched.go, new Uint8Array([1]));
    let message = await status.next();
    if (message !== undefined && "console" in message && message.console !== undefined) {
      master = takeFd(launched.child.pid, message.console);
      if (process.consoleSize) {
        setWinSize(master, { rows: process.consoleSize.height, cols: process.consoleSize.width });
      }
      writeAll(launched.go, new Uint8Array([1]));
      message = await status.next();
    }
    status.close();
    if (message !== undefined && "error" in message) {
      await launched.child.status;
      throw initError(message);
    }
    return {
      id,
      stateRoot,
      bundle: record.bundle,
      spec,
      pid: launched.child.pid,
      cgroup: record.cgroup,
      child: launched.child,
      ...(master === undefined ? {} : { console: master }),
    };
  } catch (error) {
    status?.close();
    if (master !== undefined) closeFd(master);
    if (launched !== undefined) {
      try {
        launched.child.kill("SIGKILL");
      } catch {
        // gone
      }
    }
    throw error;
  } finally {
    if (launched !== undefined) closeFd(launched.go);
  }
}
