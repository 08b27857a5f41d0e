/**
 * The second step of `exec` (see exec.ts): the process to run, its seccomp
 * filter compiled here while init starts, sent to init once init is in the
 * container's cgroup; then init's answer. Loaded while init boots.
 *
 * @module
 */
import { CAPABILITIES } from "../../ffi/caps.ts";
import { closeFd, writeAll } from "../../ffi/fd.ts";
import { takeFd } from "../../ffi/proc.ts";
import { setWinSize } from "../../ffi/pty.ts";
import { flattenFilter } from "../../ffi/seccomp.ts";
import { EngineError } from "../errors.ts";
import type { Container } from "./container.ts";
import type { ExecProcess } from "./exec.ts";
import { killInit } from "./exec.ts";
import { type ExecLate, lateConfigMessage } from "./init_config.ts";
import type { Launched } from "./launch.ts";
import type { Process, Spec } from "./spec.ts";
import { stateDir, type StateRecord } from "./state.ts";
import { initError, type StatusMessage, StatusReader } from "./_status.ts";

/** What {@linkcode runExec} takes over from a PendingExec. */
export interface ExecState {
  stateRoot: string;
  record: StateRecord;
  spec: Spec;
  launched: Launched;
  terminal: boolean;
  /** Settles once init is in the container's cgroup. */
  joined: Promise<void>;
}

/** The process to send init: `process` over the container's. */
export async function execLate(state: ExecState, process: ExecProcess): Promise<ExecLate> {
  const base = state.spec.process;
  const p: Process = {
    ...base,
    args: process.args,
    env: [...(process.env ?? base.env ?? []), ...(process.extraEnv ?? [])],
    cwd: process.cwd ?? base.cwd,
    user: process.user ?? base.user,
    terminal: process.terminal ?? false,
    ...(process.capabilities ? { capabilities: process.capabilities } : {}),
  };
  if (process.privileged) {
    // Every capability this process may hold (its bounding set): root in a container or VM may
    // lack some (CAP_SYS_RESOURCE), and capset refuses any outside the bounding set.
    const bound = /^CapBnd:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"));
    const mask = bound === null ? -1n : BigInt(`0x${bound[1]}`);
    const all = Object.keys(CAPABILITIES).filter((c) =>
      ((mask >> BigInt(CAPABILITIES[c]!)) & 1n) === 1n
    );
    // No inheritable ones, as Docker since CVE-2022-24769: a file's inheritable caps stay unearned.
    p.capabilities = { bounding: all, effective: all, permitted: all };
    return { process: p };
  }
  const seccomp = state.spec.linux?.seccomp;
  if (seccomp === undefined) return { process: p };
  return { process: p, filter: await execFilter(state) };
}

/** The cache of a container's compiled filter, beside its state, keyed by config.json's identity. */
interface FilterCache {
  key: string;
  filter: number[];
}

/**
 * The container's compiled seccomp filter (flattened): compiling Docker's
 * profile costs a cold process a few ms of CPU, which the init booting
 * beside it wants, so the first exec writes it beside the container's
 * state and later ones read it while config.json stays the same file.
 */
async function execFilter(state: ExecState): Promise<number[]> {
  const path = `${stateDir(state.stateRoot, state.record.id)}/seccomp-filter.json`;
  const config = Deno.statSync(`${state.record.bundle}/config.json`);
  const key = `${config.ino}:${config.size}:${config.mtime?.getTime()}`;
  try {
    const cached: FilterCache = JSON.parse(Deno.readTextFileSync(path));
    if (cached.key === key && Array.isArray(cached.filter)) return cached.filter;
  } catch {
    // none yet, or unreadable: compiled again below
  }
  const { seccompFilter } = await import("./seccomp.ts");
  const filter = flattenFilter(seccompFilter(state.spec.linux!.seccomp!));
  try {
    const tmp = `${path}.${Deno.pid}`;
    Deno.writeTextFileSync(tmp, JSON.stringify({ key, filter } satisfies FilterCache), {
      mode: 0o600,
    });
    Deno.renameSync(tmp, path);
  } catch {
    // The container went away meanwhile; the exec fails on its own.
  }
  return filter;
}

/**
 * Sends init its process, says go once init is in the container's cgroup,
 * and waits until the process runs; kills init on any failure.
 */
export async function runExec(state: ExecState, process: ExecProcess): Promise<Container> {
  const { launched, record } = state;
  let master: number | undefined;
  let goOpen = true;
  const status = new StatusReader(launched.status);
  try {
    // A write init is no longer there to read (it failed, its status line says why) is let go.
    let sent = true;
    const send = (bytes: Uint8Array<ArrayBuffer>) => {
      try {
        writeAll(launched.go, bytes);
      } catch {
        sent = false;
      }
    };
    send(lateConfigMessage(await execLate(state, process)));
    let message: StatusMessage | undefined;
    if (state.terminal) {
      message = await status.next();
      if (message !== undefined && "console" in message && message.console !== undefined) {
        master = takeFd(launched.child.pid, message.console);
        if (process.consoleSize) {
          setWinSize(master, { rows: process.consoleSize.height, cols: process.consoleSize.width });
        }
        send(new Uint8Array([1]));
        message = undefined;
      }
    }
    if (message === undefined) {
      // The last go, once init is in the container's cgroup; then EOF means it exec'd.
      await state.joined;
      send(new Uint8Array([1]));
      message = await status.next();
    }
    if (message === undefined && !sent) {
      throw new EngineError("The exec's init exited before it was given the process");
    }
    status.close();
    if (message !== undefined && "error" in message) {
      await launched.child.status;
      throw initError(message);
    }
    goOpen = false;
    closeFd(launched.go);
    return {
      id: record.id,
      stateRoot: state.stateRoot,
      bundle: record.bundle,
      spec: state.spec,
      pid: launched.child.pid,
      cgroup: record.cgroup,
      child: launched.child,
      ...(master === undefined ? {} : { console: master }),
    };
  } catch (error) {
    status.close();
    if (master !== undefined) closeFd(master);
    if (goOpen) closeFd(launched.go);
    killInit(launched);
    throw error;
  }
}
