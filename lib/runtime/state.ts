/**
 * A container's state file under the state root (`<root>/<id>/state.json`),
 * written atomically (temp + rename), and its runtime-spec status derived
 * from the live process.
 *
 * @module
 */
import { ConflictError, InvalidError, NotFoundError } from "../errors.ts";
import type { Cgroup } from "./cgroup.ts";
import type { HostMounts } from "./host_mounts.ts";

/** The default state root. */
export const DEFAULT_STATE_ROOT = "/run/berth/runtime";

/** The runtime-spec state of a container (what `state` prints). */
export interface State {
  ociVersion: string;
  id: string;
  status: "creating" | "created" | "running" | "stopped";
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** What berth keeps about a container. */
export interface StateRecord {
  ociVersion: string;
  id: string;
  pid: number;
  bundle: string;
  rootfs: string;
  /** Creation time (RFC 3339). */
  created: string;
  /** Field 22 of /proc/PID/stat, to tell a reused pid apart. */
  startTime: string;
  cgroup: Cgroup;
  /** Set when the container shares the host's mount namespace: delete detaches its mounts. */
  hostMounts?: HostMounts;
  annotations?: Record<string, string>;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * The container's state directory.
 * @throws {InvalidError} on an id that is not a plain name
 */
export function stateDir(root: string, id: string): string {
  if (!ID.test(id)) {
    throw new InvalidError(`Invalid container id "${id}": use letters, digits, "_", "." and "-"`);
  }
  return `${root}/${id}`;
}

/** The exec FIFO a created container's init waits on. */
export const fifoPath = (root: string, id: string): string => `${stateDir(root, id)}/exec.fifo`;

/** Writes the state file atomically. */
export function writeState(root: string, record: StateRecord): void {
  const dir = stateDir(root, record.id);
  const tmp = `${dir}/.state.json.${Deno.pid}`;
  Deno.writeTextFileSync(tmp, JSON.stringify(record));
  Deno.renameSync(tmp, `${dir}/state.json`);
}

/**
 * Reads a container's state file.
 * @throws {NotFoundError} when there is no such container
 */
export function readState(root: string, id: string): StateRecord {
  try {
    return JSON.parse(Deno.readTextFileSync(`${stateDir(root, id)}/state.json`));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`No such container: "${id}"`);
    }
    throw error;
  }
}

/** Ids of every container under the state root. */
export function listIds(root: string): string[] {
  try {
    return [...Deno.readDirSync(root)].filter((e) => e.isDirectory).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Field 22 (starttime) of /proc/PID/stat and the state letter, or undefined. */
export function procStat(pid: number): { startTime: string; state: string } | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0]!, startTime: fields[19]! };
  } catch {
    return undefined;
  }
}

/** Whether the container's process is still the one we started and not a zombie. */
export function isAlive(record: StateRecord): boolean {
  if (record.pid <= 0) return false;
  const stat = procStat(record.pid);
  return stat !== undefined && stat.startTime === record.startTime && stat.state !== "Z" &&
    stat.state !== "X";
}

/** The runtime-spec state of a record. */
export function toState(root: string, record: StateRecord): State {
  let status: State["status"] = "stopped";
  if (isAlive(record)) {
    let waiting = false;
    try {
      Deno.statSync(fifoPath(root, record.id));
      waiting = true;
    } catch {
      // started
    }
    status = waiting ? "created" : "running";
  }
  const state: State = {
    ociVersion: record.ociVersion,
    id: record.id,
    status,
    pid: status === "stopped" ? 0 : record.pid,
    bundle: record.bundle,
  };
  if (record.annotations) state.annotations = record.annotations;
  return state;
}

/** Rejects an unexpected state. */
export function requireStatus(state: State, allowed: State["status"][], action: string): void {
  if (!allowed.includes(state.status)) {
    throw new ConflictError(
      `Cannot ${action} container "${state.id}": container is ${state.status}`,
    );
  }
}
