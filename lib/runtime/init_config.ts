/**
 * What a launcher tells a container's init, and how: the environment
 * variable at spawn, and, for an init started before its bundle is known
 * (see {@linkcode EarlyInit}), a length-prefixed JSON message on the go pipe.
 * Kept apart from init.ts so that a launcher loads none of init's modules.
 *
 * @module
 */
import { readSync, writeAll } from "../../ffi/fd.ts";
import type { Process } from "./spec.ts";

/** The environment variable that carries {@linkcode InitConfig} to init. */
export const INIT_ENV = "_BERTH_INIT";

/** What the launcher tells init (as JSON in {@linkcode INIT_ENV}). */
export interface InitConfig {
  bundle: string;
  /** Absolute rootfs path. */
  rootfs: string;
  /** Write end of the status pipe. */
  status: number;
  /** Read end of the go pipe. */
  go: number;
  pdeathsig: boolean;
  /** The exec FIFO to block on until `start` (create/start split). */
  fifo?: string;
  /** Give the process a pty of the container's own devpts as its terminal. */
  console?: boolean;
  /** Set for `exec`: join the running container instead of creating one. */
  exec?: ExecInit;
}

/**
 * The exec part of init's config, known when the launcher spawns it: enough
 * to open the container's namespaces and join its keyring while the
 * launcher works out the process ({@linkcode ExecLate}, on the go pipe).
 */
export interface ExecInit {
  /** The container's pid as the host sees it. */
  pid: number;
  /** Field 22 of its /proc/PID/stat: init checks the namespaces it opened are still the container's. */
  startTime: string;
  /** The container's id: its session keyring is joined by name. */
  id?: string;
  /** Join its cgroup namespace too. */
  cgroupns: boolean;
}

/** What exec's init reads on its go pipe once the launcher has put it in the container's cgroup. */
export interface ExecLate {
  process: Process;
  /**
   * The container's seccomp filter, compiled by the launcher: sock_filter
   * instructions flattened as code, jt, jf, k.
   */
  filter?: number[];
}

/** The part of {@linkcode InitConfig} an init started early receives later, on its go pipe. */
export type LateConfig = Pick<InitConfig, "bundle" | "rootfs" | "fifo" | "console">;

/** What an init started early gets in {@linkcode INIT_ENV}: the rest is a {@linkcode LateConfig}. */
export interface EarlyInitConfig {
  early: true;
  status: number;
  go: number;
  pdeathsig: boolean;
}

const encoder = new TextEncoder();

/** `late` as it goes on the go pipe: a 4-byte little-endian length, then JSON. */
export function lateConfigMessage(late: LateConfig | ExecLate): Uint8Array<ArrayBuffer> {
  const json = encoder.encode(JSON.stringify(late));
  const out = new Uint8Array(4 + json.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  return out;
}

/** Writes `late` on the go pipe (see {@linkcode lateConfigMessage}). */
export function sendLateConfig(fd: number, late: LateConfig | ExecLate): void {
  writeAll(fd, lateConfigMessage(late));
}

/** Reads exactly `n` bytes; undefined at EOF (the launcher is gone). */
function readExactly(fd: number, n: number): Uint8Array<ArrayBuffer> | undefined {
  const buf = new Uint8Array(n);
  for (let off = 0; off < n;) {
    const got = readSync(fd, buf.subarray(off));
    if (got === 0) return undefined;
    off += got;
  }
  return buf;
}

/**
 * Reads the {@linkcode LateConfig} (or {@linkcode ExecLate}) that {@linkcode sendLateConfig} wrote.
 * @returns undefined when the launcher closed the pipe instead
 */
export function readLateConfig<T = LateConfig>(fd: number): T | undefined {
  const head = readExactly(fd, 4);
  if (head === undefined) return undefined;
  const body = readExactly(fd, new DataView(head.buffer).getUint32(0, true));
  return body === undefined ? undefined : JSON.parse(new TextDecoder().decode(body));
}
