/**
 * Resource usage of a running container from its cgroup (runc's
 * `events --stats`): memory use and limit, CPU time, pids, block I/O, the
 * bytes through its network interfaces, and the pids themselves (for `top`).
 *
 * @module
 */
import { cgroupPids } from "./cgroup.ts";
import { readState } from "./state.ts";

/** A snapshot of a container's usage. */
export interface Stats {
  /** Bytes in use (page cache of inactive files excluded, as Docker). */
  memoryUsage: number;
  /** The memory limit, or the host's memory when unlimited. */
  memoryLimit: number;
  /** CPU time used, in nanoseconds. */
  cpuNanos: number;
  pids: number;
  /** Bytes read from and written to block devices (v1 blkio, v2 io.stat). */
  blockRead: number;
  blockWrite: number;
  /**
   * Bytes received and sent through the interfaces of the init process's
   * network namespace, loopback aside (Docker's NET I/O sums its endpoints).
   */
  networkRx: number;
  networkTx: number;
  /** The container's processes (host pids). */
  processes: number[];
}

function readNumber(path: string): number | undefined {
  try {
    const text = Deno.readTextFileSync(path).trim();
    return text === "max" ? undefined : Number(text);
  } catch {
    return undefined;
  }
}

function statField(path: string, key: string): number | undefined {
  try {
    const m = Deno.readTextFileSync(path).match(new RegExp(`^${key} (\\d+)$`, "m"));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Block I/O bytes of a cgroup v2 directory: `rbytes`/`wbytes` summed over io.stat's devices. */
function ioStat(dir: string): { blockRead: number; blockWrite: number } {
  let blockRead = 0;
  let blockWrite = 0;
  try {
    for (const m of Deno.readTextFileSync(`${dir}/io.stat`).matchAll(/\b([rw])bytes=(\d+)/g)) {
      if (m[1] === "r") blockRead += Number(m[2]);
      else blockWrite += Number(m[2]);
    }
  } catch {
    // no io controller here: nothing counted
  }
  return { blockRead, blockWrite };
}

/**
 * Block I/O bytes of a cgroup v1 blkio directory, as Docker sums them: the
 * `Read` and `Write` lines of blkio.throttle.io_service_bytes(_recursive).
 */
function blkioStat(dir: string | undefined): { blockRead: number; blockWrite: number } {
  let blockRead = 0;
  let blockWrite = 0;
  if (dir === undefined) return { blockRead, blockWrite };
  for (const file of ["io_service_bytes_recursive", "io_service_bytes"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`${dir}/blkio.throttle.${file}`);
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^\S+ (Read|Write) (\d+)$/gm)) {
      if (m[1] === "Read") blockRead += Number(m[2]);
      else blockWrite += Number(m[2]);
    }
    break;
  }
  return { blockRead, blockWrite };
}

/**
 * Received and sent bytes of every interface but `lo` in the network
 * namespace of `pid`, from /proc/PID/net/dev (a header of two lines, then
 * `name: rx_bytes rx_packets ... tx_bytes ...`, the transmit side from the
 * ninth number on). Zero when the process is gone.
 */
function netDevBytes(pid: number): { networkRx: number; networkTx: number } {
  let networkRx = 0;
  let networkTx = 0;
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/net/dev`);
  } catch {
    return { networkRx, networkTx };
  }
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.slice(0, colon).trim() === "lo") continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    networkRx += fields[0] ?? 0;
    networkTx += fields[8] ?? 0;
  }
  return { networkRx, networkTx };
}

/** Reads a container's usage. @throws {NotFoundError} when it has no state */
export function containerStats(stateRoot: string, id: string): Stats {
  const { cgroup, pid } = readState(stateRoot, id);
  const processes = cgroupPids(cgroup);
  const network = netDevBytes(pid);
  const hostMemory = Deno.systemMemoryInfo().total;
  if (cgroup.version === 2) {
    const dir = cgroup.dirs[""]!;
    const usage = readNumber(`${dir}/memory.current`) ?? 0;
    const inactive = statField(`${dir}/memory.stat`, "inactive_file") ?? 0;
    return {
      memoryUsage: Math.max(0, usage - inactive),
      memoryLimit: readNumber(`${dir}/memory.max`) ?? hostMemory,
      cpuNanos: (statField(`${dir}/cpu.stat`, "usage_usec") ?? 0) * 1000,
      pids: readNumber(`${dir}/pids.current`) ?? processes.length,
      ...ioStat(dir),
      ...network,
      processes,
    };
  }
  const mem = cgroup.dirs.memory;
  const usage = mem === undefined ? 0 : readNumber(`${mem}/memory.usage_in_bytes`) ?? 0;
  const inactive = mem === undefined
    ? 0
    : statField(`${mem}/memory.stat`, "total_inactive_file") ?? 0;
  const limit = mem === undefined ? undefined : readNumber(`${mem}/memory.limit_in_bytes`);
  const cpuacct = cgroup.dirs.cpuacct;
  return {
    memoryUsage: Math.max(0, usage - inactive),
    memoryLimit: limit === undefined || limit >= hostMemory ? hostMemory : limit,
    cpuNanos: cpuacct === undefined ? 0 : readNumber(`${cpuacct}/cpuacct.usage`) ?? 0,
    pids: cgroup.dirs.pids === undefined
      ? processes.length
      : readNumber(`${cgroup.dirs.pids}/pids.current`) ?? 0,
    ...blkioStat(cgroup.dirs.blkio),
    ...network,
    processes,
  };
}

/** The container's processes (host pids). @throws {NotFoundError} when it has no state */
export function containerPids(stateRoot: string, id: string): number[] {
  return cgroupPids(readState(stateRoot, id).cgroup);
}
