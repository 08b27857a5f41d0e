/**
 * `docker update`: new resource limits and restart policy for a container.
 * The record and the bundle's config.json take them (a later start applies
 * them); a running container's cgroup gets them at once.
 *
 * @module
 */
import { ConflictError, InvalidError } from "../errors.ts";
import { writeV1Limits, writeV2Limits } from "../runtime/cgroup_resources.ts";
import type { Resources } from "../runtime/spec.ts";
import { readState } from "../runtime/state.ts";
import { writeFileAtomic } from "../store/tmp.ts";
import type { ContainerRecord, ContainerStore } from "./container_record.ts";

/** What `update` changes; each absent field stays as it is. */
export interface UpdateOptions {
  /** Bytes; 0 removes the limit. */
  memory?: number;
  /** Memory plus swap, bytes; -1 unlimited swap. */
  memorySwap?: number;
  /** CPUs as a fraction; 0 removes the limit. */
  cpus?: number;
  cpuShares?: number;
  /** 0 or -1 removes the limit. */
  pidsLimit?: number;
  restart?: { name: string; maximumRetryCount: number };
}

const MIN_MEMORY = 6 * 1024 * 1024;

/** The cgroup resources that `o` changes, in the runtime spec's terms. */
function changedResources(o: UpdateOptions, r: ContainerRecord): Resources {
  const out: Resources = {};
  if (o.memory !== undefined || o.memorySwap !== undefined) {
    const memory = o.memory ?? r.HostConfig.Memory;
    out.memory = {
      limit: memory > 0 ? memory : -1,
      ...(o.memorySwap !== undefined ? { swap: o.memorySwap === 0 ? -1 : o.memorySwap } : {}),
    };
  }
  if (o.cpus !== undefined || o.cpuShares !== undefined) {
    out.cpu = {
      ...(o.cpuShares !== undefined ? { shares: o.cpuShares } : {}),
      ...(o.cpus !== undefined
        ? { quota: o.cpus > 0 ? Math.round(o.cpus * 100_000) : -1, period: 100_000 }
        : {}),
    };
  }
  if (o.pidsLimit !== undefined) out.pids = { limit: o.pidsLimit > 0 ? o.pidsLimit : 0 };
  return out;
}

/**
 * Checks an update against the container as Docker's daemon does.
 * @throws {InvalidError} {ConflictError} Docker's messages
 */
function check(o: UpdateOptions, r: ContainerRecord): void {
  if (o.memory !== undefined && o.memory > 0 && o.memory < MIN_MEMORY) {
    throw new InvalidError("Minimum memory limit allowed is 6MB");
  }
  const memory = o.memory ?? r.HostConfig.Memory;
  const swap = o.memorySwap ?? r.HostConfig.MemorySwap;
  if (o.memorySwap !== undefined && o.memorySwap > 0 && memory <= 0) {
    throw new InvalidError(
      "You should always set the Memory limit when using Memoryswap limit",
    );
  }
  if (swap > 0 && memory > swap) {
    throw new InvalidError(
      o.memorySwap === undefined
        ? "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"
        : "Minimum memoryswap limit should be larger than memory limit, see usage for details",
    );
  }
  if (o.restart !== undefined && o.restart.name !== "no" && r.HostConfig.AutoRemove) {
    throw new ConflictError(
      "Restart policy cannot be updated because AutoRemove is enabled for the container",
    );
  }
}

/** Writes limits into a live cgroup (v1: memory and swap in the order the kernel accepts). */
function applyLive(runtimeRoot: string, id: string, res: Resources): void {
  const cg = readState(runtimeRoot, id).cgroup;
  if (cg.version === 2) {
    writeV2Limits(cg.dirs[""]!, res);
    return;
  }
  const { memory, ...rest } = res;
  if (memory !== undefined) {
    const limit = memory.limit === undefined ? undefined : { limit: memory.limit };
    const swap = memory.swap === undefined ? undefined : { swap: memory.swap };
    // memsw may not go below the limit: lower the limit first, or raise memsw first.
    try {
      if (limit) writeV1Limits(cg.dirs, { memory: limit });
      if (swap) writeV1Limits(cg.dirs, { memory: swap });
    } catch {
      if (swap) writeV1Limits(cg.dirs, { memory: swap });
      if (limit) writeV1Limits(cg.dirs, { memory: limit });
    }
  }
  writeV1Limits(cg.dirs, rest);
}

/**
 * Updates a container: checks, the live cgroup (when it runs), then the
 * bundle and the record.
 * @returns the updated record
 */
export function updateContainer(
  records: ContainerStore,
  runtimeRoot: string,
  id: string,
  o: UpdateOptions,
): ContainerRecord {
  const record = records.read(id);
  check(o, record);
  const res = changedResources(o, record);
  if (record.State.Running && Object.keys(res).length > 0) applyLive(runtimeRoot, id, res);
  if (Object.keys(res).length > 0) {
    const path = `${records.path(id)}/bundle/config.json`;
    const spec = JSON.parse(Deno.readTextFileSync(path));
    spec.linux ??= {};
    const current: Resources = spec.linux.resources ?? {};
    spec.linux.resources = {
      ...current,
      ...(res.memory ? { memory: { ...current.memory, ...res.memory } } : {}),
      ...(res.cpu ? { cpu: { ...current.cpu, ...res.cpu } } : {}),
      ...(res.pids ? { pids: res.pids } : {}),
    };
    writeFileAtomic(path, JSON.stringify(spec, null, 2), records.tmpDir);
  }
  return records.update(id, (r) => {
    const h = r.HostConfig;
    if (o.memory !== undefined) h.Memory = o.memory;
    if (o.memorySwap !== undefined) h.MemorySwap = o.memorySwap;
    if (o.cpus !== undefined) h.NanoCpus = Math.round(o.cpus * 1e9);
    if (o.cpuShares !== undefined) h.CpuShares = o.cpuShares;
    if (o.pidsLimit !== undefined) h.PidsLimit = o.pidsLimit > 0 ? o.pidsLimit : null;
    if (o.restart !== undefined) {
      h.RestartPolicy = { Name: o.restart.name, MaximumRetryCount: o.restart.maximumRetryCount };
    }
  });
}
