/**
 * `linux.resources` to cgroup files, for cgroup v1 (one directory per
 * controller) and v2 (one directory): memory, cpu, cpuset, pids, blockIO,
 * hugepageLimits, network, rdma and unified. A value the host cannot apply
 * (no controller, no such file, a kernel that ignores it, a field v2 does not
 * have) is refused with an error naming the field, never skipped: the caller
 * then removes the cgroup.
 *
 * @see https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#control-groups
 * @module
 */
import { InvalidError } from "../errors.ts";
import type { BlockIO, Resources, ThrottleDevice } from "./spec.ts";

/** A controller that `linux.resources` needs, and the first field that needs it. */
export interface Need {
  controller: string;
  field: string;
}

const refuse = (field: string, why: string) =>
  new InvalidError(`Cannot apply "linux.resources.${field}": ${why}`);

/** The refusal for a controller the host does not have. */
export const noController = (need: Need): InvalidError =>
  refuse(need.field, `the host has no ${need.controller} cgroup controller`);

/** Whether `path` exists. */
export const exists = (path: string): boolean => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** A file's trimmed text, or `fallback` when it cannot be read. */
export const readOr = (path: string, fallback: string): string => {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return fallback;
  }
};

/** The kernel's reason, without Deno's `: writefile '<path>'` suffix. */
const reason = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).replace(/: writefile '.*$/s, "");

const ENODEV = /\(os error 19\)/;

interface PutOptions {
  /** Why the file is missing, when there is more to say than its name. */
  missing?: string;
  /** The refusal's reason when the kernel refuses the write. */
  refused?: (error: unknown) => string | undefined;
}

/**
 * Writes `value` to `dir/file` for `field`, refusing it when the file does
 * not exist (a cgroup directory cannot gain files) or the kernel says no.
 */
function put(
  dir: string,
  file: string,
  value: string | number,
  field: string,
  options: PutOptions = {},
): void {
  const path = `${dir}/${file}`;
  const controller = file.split(".")[0];
  if (!exists(path)) {
    throw refuse(
      field,
      options.missing ?? `the host's ${controller} cgroup controller has no "${file}"`,
    );
  }
  try {
    Deno.writeTextFileSync(path, String(value));
  } catch (error) {
    const why = options.refused?.(error) ??
      `the kernel refused "${value}" in "${file}": ${reason(error)}`;
    throw refuse(field, why);
  }
}

/** Given and not empty: an empty list of rules asks for nothing. */
const set = (v: unknown) => v !== undefined && !(Array.isArray(v) && v.length === 0);

/** Swappiness, or undefined for runc's "unset" (-1, also as uint64). */
const swappinessOf = (m: Resources["memory"]) => {
  const v = m?.swappiness;
  return v !== undefined && v >= 0 && v <= 100 ? v : undefined;
};
const firstSet = (obj: object | undefined, keys: string[]) =>
  obj === undefined ? undefined : keys.find((k) => set((obj as Record<string, unknown>)[k]));

const THROTTLES = [
  ["throttleReadBpsDevice", "read_bps", "rbps"],
  ["throttleWriteBpsDevice", "write_bps", "wbps"],
  ["throttleReadIOPSDevice", "read_iops", "riops"],
  ["throttleWriteIOPSDevice", "write_iops", "wiops"],
] as const;

const MEMORY_V1 = [
  "limit",
  "reservation",
  "swap",
  "kernel",
  "kernelTCP",
  "swappiness",
  "disableOOMKiller",
  "useHierarchy",
];
const CPU_V1 = ["shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "idle"];
const BLOCK_IO = ["weight", "leafWeight", "weightDevice", ...THROTTLES.map((t) => t[0])];

/**
 * The v1 controllers `r` writes to, each with the first field that needs it
 * (for the refusal when the host lacks it).
 */
export function v1Needs(r: Resources): Need[] {
  const needs: Need[] = [];
  const add = (controller: string, obj: object | undefined, keys: string[], prefix: string) => {
    const key = firstSet(obj, keys);
    if (key !== undefined) needs.push({ controller, field: `${prefix}.${key}` });
  };
  // disableOOMKiller false (Docker's default) and an unset swappiness ask for nothing.
  const m = r.memory;
  const memory = m &&
    { ...m, disableOOMKiller: m.disableOOMKiller || undefined, swappiness: swappinessOf(m) };
  add("memory", memory, MEMORY_V1, "memory");
  add("cpu", r.cpu, CPU_V1, "cpu");
  if (r.cpu?.cpus || r.cpu?.mems) {
    needs.push({ controller: "cpuset", field: r.cpu.cpus ? "cpu.cpus" : "cpu.mems" });
  }
  if (r.pids !== undefined) needs.push({ controller: "pids", field: "pids" });
  add("blkio", r.blockIO, BLOCK_IO, "blockIO");
  if ((r.hugepageLimits?.length ?? 0) > 0) {
    needs.push({ controller: "hugetlb", field: "hugepageLimits" });
  }
  if (r.network?.classID !== undefined) {
    needs.push({ controller: "net_cls", field: "network.classID" });
  }
  if ((r.network?.priorities?.length ?? 0) > 0) {
    needs.push({ controller: "net_prio", field: "network.priorities" });
  }
  if (r.rdma !== undefined && Object.keys(r.rdma).length > 0) {
    needs.push({ controller: "rdma", field: "rdma" });
  }
  return needs;
}

/**
 * Writes `r` into a v1 cgroup whose `dirs` hold every controller of
 * {@linkcode v1Needs} (devices aside).
 * @throws {InvalidError} naming the field the host cannot apply
 */
export function writeV1Limits(dirs: Record<string, string>, r: Resources): void {
  if (r.unified !== undefined && Object.keys(r.unified).length > 0) {
    throw refuse("unified", "the host uses cgroup v1");
  }
  if (r.memory !== undefined) writeV1Memory(dirs.memory!, r.memory);
  const cpu = r.cpu;
  if (cpu !== undefined && firstSet(cpu, CPU_V1) !== undefined) {
    const dir = dirs.cpu!;
    if (cpu.shares !== undefined) put(dir, "cpu.shares", cpu.shares, "cpu.shares");
    if (cpu.period !== undefined) put(dir, "cpu.cfs_period_us", cpu.period, "cpu.period");
    if (cpu.quota !== undefined) put(dir, "cpu.cfs_quota_us", cpu.quota, "cpu.quota");
    if (cpu.burst !== undefined) put(dir, "cpu.cfs_burst_us", cpu.burst, "cpu.burst");
    writeV1Realtime(dir, cpu.realtimePeriod, cpu.realtimeRuntime);
    if (cpu.idle !== undefined) put(dir, "cpu.idle", cpu.idle, "cpu.idle");
  }
  if (r.pids !== undefined) {
    put(dirs.pids!, "pids.max", r.pids.limit > 0 ? r.pids.limit : "max", "pids.limit");
  }
  if (cpu?.cpus) put(dirs.cpuset!, "cpuset.cpus", cpu.cpus, "cpu.cpus");
  if (cpu?.mems) put(dirs.cpuset!, "cpuset.mems", cpu.mems, "cpu.mems");
  if (r.blockIO !== undefined) writeV1BlockIO(dirs.blkio!, r.blockIO);
  writeHugetlb(dirs.hugetlb!, r.hugepageLimits, "limit_in_bytes");
  const net = r.network;
  if (net?.classID !== undefined) {
    put(dirs.net_cls!, "net_cls.classid", net.classID, "network.classID");
  }
  net?.priorities?.forEach((p, i) => {
    put(
      dirs.net_prio!,
      "net_prio.ifpriomap",
      `${p.name} ${p.priority}`,
      `network.priorities[${i}]`,
      {
        refused: (e) =>
          ENODEV.test(reason(e)) ? `the host has no network interface "${p.name}"` : undefined,
      },
    );
  });
  if (r.rdma !== undefined) writeRdma(dirs.rdma!, r.rdma);
}

/** `hugetlb.<size>.<file>` per limit: a size the host has no file for has no such pages. */
function writeHugetlb(dir: string, limits: Resources["hugepageLimits"], file: string): void {
  limits?.forEach((h, i) => {
    const name = `hugetlb.${h.pageSize}.${file}`;
    if (!exists(`${dir}/${name}`)) {
      throw refuse(`hugepageLimits[${i}].pageSize`, `the host has no "${h.pageSize}" huge pages`);
    }
    put(dir, name, h.limit, `hugepageLimits[${i}].limit`);
  });
}

function writeV1Memory(dir: string, m: NonNullable<Resources["memory"]>): void {
  if (m.limit !== undefined) put(dir, "memory.limit_in_bytes", m.limit, "memory.limit");
  if (m.swap !== undefined) {
    put(dir, "memory.memsw.limit_in_bytes", m.swap, "memory.swap", {
      missing:
        `the host's memory cgroup controller has no swap accounting ("memory.memsw.limit_in_bytes")`,
    });
  }
  if (m.reservation !== undefined) {
    put(dir, "memory.soft_limit_in_bytes", m.reservation, "memory.reservation");
  }
  if (m.kernel !== undefined) {
    const file = "memory.kmem.limit_in_bytes";
    put(dir, file, m.kernel, "memory.kernel");
    // Linux 6.x keeps the file but ignores what is written to it.
    const got = Number(readOr(`${dir}/${file}`, "NaN"));
    if (m.kernel >= 0 && !(got <= m.kernel && m.kernel - got < 65536)) {
      throw refuse("memory.kernel", `the host's kernel ignores kernel memory limits ("${file}")`);
    }
  }
  if (m.kernelTCP !== undefined) {
    put(dir, "memory.kmem.tcp.limit_in_bytes", m.kernelTCP, "memory.kernelTCP");
  }
  const swappiness = swappinessOf(m);
  if (swappiness !== undefined) {
    put(dir, "memory.swappiness", swappiness, "memory.swappiness");
  }
  if (m.disableOOMKiller) put(dir, "memory.oom_control", 1, "memory.disableOOMKiller");
  if (m.useHierarchy !== undefined) {
    put(dir, "memory.use_hierarchy", m.useHierarchy ? 1 : 0, "memory.useHierarchy");
  }
}

/** Realtime period before runtime: the runtime is checked against the period. */
function writeV1Realtime(dir: string, period?: number, runtime?: number): void {
  if (period !== undefined) put(dir, "cpu.rt_period_us", period, "cpu.realtimePeriod");
  if (runtime === undefined) return;
  put(dir, "cpu.rt_runtime_us", runtime, "cpu.realtimeRuntime", {
    // A group gets realtime time only out of its parent's budget, 0 for a new group.
    refused: () => {
      const parent = dir.slice(0, dir.lastIndexOf("/"));
      const budget = readOr(`${parent}/cpu.rt_runtime_us`, "?");
      const per = readOr(`${parent}/cpu.rt_period_us`, "?");
      return `the kernel refused "${runtime}" in "cpu.rt_runtime_us": the parent cgroup "${parent}" has ${budget} µs of realtime runtime per ${per} µs`;
    },
  });
}

const device = (d: { major: number; minor: number }) => `${d.major}:${d.minor}`;

const noDevice = (d: ThrottleDevice | { major: number; minor: number }) => (e: unknown) =>
  ENODEV.test(reason(e)) ? `the host has no block device "${device(d)}"` : undefined;

function writeV1BlockIO(dir: string, b: BlockIO): void {
  // BFQ's files where the disks use BFQ; CFQ's (gone since Linux 5.0) otherwise.
  const bfq = exists(`${dir}/blkio.bfq.weight`);
  const weightFile = bfq ? "blkio.bfq.weight" : "blkio.weight";
  const noWeight =
    `the host's blkio cgroup controller has no "blkio.weight" (it needs the BFQ I/O scheduler)`;
  if (b.weight !== undefined) {
    put(dir, weightFile, b.weight, "blockIO.weight", { missing: noWeight });
  }
  if (b.leafWeight !== undefined) put(dir, "blkio.leaf_weight", b.leafWeight, "blockIO.leafWeight");
  b.weightDevice?.forEach((d, i) => {
    const field = `blockIO.weightDevice[${i}]`;
    if (d.weight !== undefined) {
      put(dir, `${weightFile}_device`, `${device(d)} ${d.weight}`, field, {
        missing: noWeight,
        refused: noDevice(d),
      });
    }
    if (d.leafWeight !== undefined) {
      put(dir, "blkio.leaf_weight_device", `${device(d)} ${d.leafWeight}`, field, {
        refused: noDevice(d),
      });
    }
  });
  for (const [key, file] of THROTTLES) {
    b[key]?.forEach((d, i) => {
      put(dir, `blkio.throttle.${file}_device`, `${device(d)} ${d.rate}`, `blockIO.${key}[${i}]`, {
        refused: noDevice(d),
      });
    });
  }
}

function writeRdma(dir: string, rdma: NonNullable<Resources["rdma"]>): void {
  for (const [name, limit] of Object.entries(rdma)) {
    const value = `${name} hca_handle=${limit.hcaHandles ?? "max"} hca_object=${
      limit.hcaObjects ?? "max"
    }`;
    put(dir, "rdma.max", value, `rdma.${name}`, {
      refused: (e) =>
        /\(os error (19|22)\)/.test(reason(e))
          ? `the host has no RDMA device "${name}"`
          : undefined,
    });
  }
}

/**
 * The fields cgroup v2 has no file for, refused before anything is written.
 * @throws {InvalidError} naming the first one
 */
function refuseV2Only(r: Resources): void {
  const m = r.memory;
  // -1 (unlimited) is what v2 gives anyway.
  if (m?.kernel !== undefined && m.kernel >= 0) {
    throw refuse("memory.kernel", "cgroup v2 has no kernel memory limit");
  }
  if (m?.kernelTCP !== undefined && m.kernelTCP >= 0) {
    throw refuse("memory.kernelTCP", "cgroup v2 has no kernel TCP memory limit");
  }
  if (swappinessOf(m) !== undefined) {
    throw refuse("memory.swappiness", "cgroup v2 has no per-cgroup swappiness");
  }
  if (m?.disableOOMKiller) {
    throw refuse("memory.disableOOMKiller", "cgroup v2 cannot disable the OOM killer");
  }
  if (m?.useHierarchy === false) {
    throw refuse("memory.useHierarchy", "cgroup v2 is always hierarchical");
  }
  const rt = firstSet(r.cpu, ["realtimePeriod", "realtimeRuntime"]);
  if (rt !== undefined) throw refuse(`cpu.${rt}`, "cgroup v2 has no realtime CPU limits");
  if (
    r.blockIO?.leafWeight !== undefined || r.blockIO?.weightDevice?.some((d) => set(d.leafWeight))
  ) {
    throw refuse("blockIO.leafWeight", "cgroup v2 has no leaf weights");
  }
  if (r.network?.classID !== undefined) {
    throw refuse("network.classID", "cgroup v2 has no net_cls controller");
  }
  if ((r.network?.priorities?.length ?? 0) > 0) {
    throw refuse("network.priorities", "cgroup v2 has no net_prio controller");
  }
}

/** The v2 controllers `r` writes to, each with the first field that needs it. */
export function v2Needs(r: Resources): Need[] {
  const { network: _, ...rest } = r;
  const needs = v1Needs(rest).map((n) => n.controller === "blkio" ? { ...n, controller: "io" } : n);
  for (const key of Object.keys(r.unified ?? {})) {
    const controller = key.split(".")[0]!;
    if (controller !== "cgroup" && !needs.some((n) => n.controller === controller)) {
      needs.push({ controller, field: `unified.${key}` });
    }
  }
  return needs;
}

/** blkio's weight (10-1000) on io.weight's scale (1-10000), as runc and crun map it. */
export const ioWeight = (weight: number): number => 1 + Math.floor(((weight - 10) * 9999) / 990);

/**
 * Writes `r` into the v2 cgroup `dir`.
 * @throws {InvalidError} naming the field the host cannot apply
 */
export function writeV2Limits(dir: string, r: Resources): void {
  refuseV2Only(r);
  // What the parent enables for its children (the kernel shows the same in the child's
  // cgroup.controllers), read as written ("+io") or as the kernel shows it ("io").
  const parent = dir.slice(0, dir.lastIndexOf("/"));
  const enabled = readOr(`${parent}/cgroup.subtree_control`, "").split(/\s+/)
    .map((c) => c.replace(/^\+/, ""));
  const missing = v2Needs(r).find((n) => !enabled.includes(n.controller));
  if (missing !== undefined) throw noController(missing);
  const mem = r.memory;
  if (mem?.limit !== undefined) {
    put(dir, "memory.max", mem.limit > 0 ? mem.limit : "max", "memory.limit");
  }
  if (mem?.swap !== undefined) {
    const swap = mem.swap < 0 ? "max" : Math.max(0, mem.swap - (mem.limit ?? 0));
    put(dir, "memory.swap.max", swap, "memory.swap");
  }
  if (mem?.reservation !== undefined) put(dir, "memory.low", mem.reservation, "memory.reservation");
  const cpu = r.cpu;
  if (cpu?.shares !== undefined) {
    const weight = 1 + Math.floor(((cpu.shares - 2) * 9999) / 262142);
    put(dir, "cpu.weight", weight, "cpu.shares");
  }
  if (cpu?.quota !== undefined || cpu?.period !== undefined) {
    const quota = cpu.quota === undefined || cpu.quota <= 0 ? "max" : cpu.quota;
    put(dir, "cpu.max", `${quota} ${cpu.period ?? 100000}`, cpu.quota ? "cpu.quota" : "cpu.period");
  }
  if (cpu?.burst !== undefined) put(dir, "cpu.max.burst", cpu.burst, "cpu.burst");
  if (cpu?.idle !== undefined) put(dir, "cpu.idle", cpu.idle, "cpu.idle");
  if (r.pids !== undefined) {
    put(dir, "pids.max", r.pids.limit > 0 ? r.pids.limit : "max", "pids.limit");
  }
  if (cpu?.cpus) put(dir, "cpuset.cpus", cpu.cpus, "cpu.cpus");
  if (cpu?.mems) put(dir, "cpuset.mems", cpu.mems, "cpu.mems");
  if (r.blockIO !== undefined) writeV2BlockIO(dir, r.blockIO);
  writeHugetlb(dir, r.hugepageLimits, "max");
  if (r.rdma !== undefined) writeRdma(dir, r.rdma);
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    put(dir, key, value, `unified.${key}`, { missing: `the cgroup has no file "${key}"` });
  }
}

function writeV2BlockIO(dir: string, b: BlockIO): void {
  const bfq = exists(`${dir}/io.bfq.weight`);
  const [file, scale] = bfq ? ["io.bfq.weight", (w: number) => w] : ["io.weight", ioWeight];
  if (b.weight !== undefined) put(dir, file, `default ${scale(b.weight)}`, "blockIO.weight");
  b.weightDevice?.forEach((d, i) => {
    if (d.weight === undefined) return;
    put(dir, file, `${device(d)} ${scale(d.weight)}`, `blockIO.weightDevice[${i}]`, {
      refused: noDevice(d),
    });
  });
  for (const [key, , name] of THROTTLES) {
    b[key]?.forEach((d, i) => {
      put(dir, "io.max", `${device(d)} ${name}=${d.rate}`, `blockIO.${key}[${i}]`, {
        refused: noDevice(d),
      });
    });
  }
}
