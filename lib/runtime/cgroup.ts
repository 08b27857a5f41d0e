/**
 * cgroups for a container: create the directory (v1: one per controller;
 * v2: one in the unified tree), write `linux.resources`, add a process,
 * read the OOM-kill counter, and remove it after exit.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";
import { attachDeviceProgram } from "../../ffi/bpf.ts";
import { deviceFilter, withRuntimeDevices } from "./device_filter.ts";
import {
  exists,
  noController,
  readOr,
  v1Needs,
  writeV1Limits,
  writeV2Limits,
} from "./cgroup_resources.ts";
import type { DeviceRule, Resources } from "./spec.ts";

export { cgroupPids, joinCgroup, joinCgroupAsync, oomKilled } from "./cgroup_procs.ts";

/** A container's cgroup: its directory per v1 controller, or the one v2 directory under `""`. */
export interface Cgroup {
  version: 1 | 2;
  /** Controller name (v1) or `""` (v2) to absolute directory. */
  dirs: Record<string, string>;
  /**
   * Directories above `dirs` that create made for a `linux.cgroupsPath`
   * (runc leaves them): delete removes those left empty, since the spec has
   * delete remove what create made. Absent for berth's own `berth/<id>`.
   */
  parents?: string[];
}

const MOUNT = "/sys/fs/cgroup";
/**
 * v1 controllers berth creates a directory in for every container. blkio is
 * among them though few containers limit block I/O: its counters are what
 * `stats` shows as BLOCK I/O, and Docker's containers always have one.
 */
const V1_CONTROLLERS = ["memory", "pids", "cpu", "cpuacct", "freezer", "devices", "blkio"];

/** Which cgroup layout the host has: 2 when the root is a cgroup2 mount with controllers. */
export function cgroupVersion(mount = MOUNT): 1 | 2 {
  try {
    Deno.statSync(`${mount}/cgroup.controllers`);
    return 2;
  } catch {
    return 1;
  }
}

/** Normalizes `linux.cgroupsPath` (or the default `berth/<id>`) to a relative path. */
export function cgroupRelativePath(id: string, cgroupsPath?: string): string {
  const rel = (cgroupsPath ?? `berth/${id}`).replace(/^\/+/, "");
  if (rel === "" || rel.split("/").some((p) => p === ".." || p === ".")) {
    throw new InvalidError(`Invalid config.json: "linux.cgroupsPath" must be a plain path`);
  }
  return rel;
}

const write = (dir: string, file: string, value: string | number) =>
  Deno.writeTextFileSync(`${dir}/${file}`, String(value));

/** Options of {@linkcode createCgroup} and {@linkcode makeCgroupDirs}. */
export interface CgroupOptions {
  /** The cgroup filesystem's root. @default "/sys/fs/cgroup" */
  mount?: string;
  /** Record the parent directories made, for delete to remove ({@linkcode Cgroup.parents}). */
  ownParents?: boolean;
}

/**
 * Creates the cgroup and writes the limits.
 * @throws {Deno.errors.NotFound | Error} when a limit cannot be written
 */
export function createCgroup(
  rel: string,
  resources: Resources = {},
  options: CgroupOptions = {},
): Cgroup {
  const mount = options.mount ?? MOUNT;
  const cg = makeCgroupDirs(rel, {
    ...options,
    unified: (resources.devices?.length ?? 0) > 0,
  });
  try {
    limitCgroup(cg, rel, resources, mount);
    return cg;
  } catch (error) {
    removeCgroupSync(cg);
    throw error;
  }
}

/**
 * Makes the cgroup's directories: one per v1 controller (and, with
 * `unified`, one in a hybrid host's cgroup2 tree, for the device filter), or
 * the one v2 directory. Without limits yet: see {@linkcode limitCgroup}.
 */
export function makeCgroupDirs(
  rel: string,
  options: CgroupOptions & { unified?: boolean } = {},
): Cgroup {
  const mount = options.mount ?? MOUNT;
  const version = cgroupVersion(mount);
  const parents = options.ownParents ? { parents: [] } : {};
  if (version === 2) {
    const cg: Cgroup = { version, dirs: { "": `${mount}/${rel}` }, ...parents };
    noteParents(cg, mount, rel);
    enableV2Controllers(mount, rel);
    Deno.mkdirSync(cg.dirs[""]!, { recursive: true });
    return cg;
  }
  const cg: Cgroup = { version, dirs: {}, ...parents };
  for (const ctrl of V1_CONTROLLERS) {
    try {
      Deno.statSync(`${mount}/${ctrl}/cgroup.procs`);
    } catch {
      continue;
    }
    makeDir(cg, `${mount}/${ctrl}`, rel);
    cg.dirs[ctrl] = `${mount}/${ctrl}/${rel}`;
  }
  // A hybrid host's cgroup2 tree has no controllers, yet it filters devices
  // with eBPF as a v2 host does: both the v1 rules and the program apply.
  const unified = `${mount}/unified`;
  if (options.unified && exists(`${unified}/cgroup.procs`)) {
    makeDir(cg, unified, rel);
    cg.dirs.unified = `${unified}/${rel}`;
  }
  return cg;
}

/** Notes in `cg.parents` (when it keeps them) the directories above `root/rel` that do not exist yet. */
function noteParents(cg: Cgroup, root: string, rel: string): void {
  if (cg.parents === undefined) return;
  let dir = root;
  for (const part of rel.split("/").slice(0, -1)) {
    dir = `${dir}/${part}`;
    if (!exists(dir)) cg.parents.push(dir);
  }
}

/** Makes `root/rel` and its missing parents, noting the parents it made. */
function makeDir(cg: Cgroup, root: string, rel: string): void {
  noteParents(cg, root, rel);
  Deno.mkdirSync(`${root}/${rel}`, { recursive: true });
}

/**
 * Writes the limits into a cgroup from {@linkcode makeCgroupDirs} (v1: adds
 * to `cg` the directories of the controllers that only some limits need:
 * cpuset, hugetlb, net_cls, net_prio, rdma; and blkio where `cg` has none).
 * @throws {InvalidError} naming the field the host cannot apply (the caller removes `cg`)
 */
export function limitCgroup(cg: Cgroup, rel: string, resources: Resources, mount = MOUNT): void {
  const dirs = cg.dirs;
  if (cg.version === 2) {
    writeV2Limits(dirs[""]!, resources);
    filterDevices(dirs[""]!, resources.devices);
    return;
  }
  const extra = v1Needs(resources).filter((n) => dirs[n.controller] === undefined);
  const missing = extra.find((n) => !exists(`${mount}/${n.controller}/cgroup.procs`));
  if (missing !== undefined) throw noController(missing);
  for (const { controller } of extra) {
    // In `dirs` before it exists: a failure from here on removes it with the rest.
    dirs[controller] = `${mount}/${controller}/${rel}`;
    if (controller === "cpuset") {
      noteParents(cg, `${mount}/cpuset`, rel);
      makeV1Cpuset(mount, rel);
    } else makeDir(cg, `${mount}/${controller}`, rel);
  }
  writeV1(dirs, resources);
  if (dirs.unified !== undefined) filterDevices(dirs.unified, resources.devices);
}

/**
 * Makes the v1 cpuset directories down to `rel`: a new v1 cpuset has no
 * CPUs or memory nodes until given its parent's (or nothing can join it).
 */
function makeV1Cpuset(mount: string, rel: string): string {
  let dir = `${mount}/cpuset`;
  for (const part of rel.split("/")) {
    const parent = dir;
    dir = `${dir}/${part}`;
    Deno.mkdirSync(dir, { recursive: true });
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (readOr(`${dir}/${file}`, "") === "") {
        write(dir, file, Deno.readTextFileSync(`${parent}/${file}`).trim());
      }
    }
  }
  return dir;
}

/** Attaches the eBPF device filter for `rules` (and the runtime's devices) to a cgroup2 directory. */
function filterDevices(dir: string, rules: readonly DeviceRule[] | undefined): void {
  const all = withRuntimeDevices(rules);
  if (all.length > 0) attachDeviceProgram(dir, deviceFilter(all));
}

function writeV1(dirs: Record<string, string>, r: Resources): void {
  const need = (ctrl: string) => {
    const dir = dirs[ctrl];
    if (dir === undefined) {
      throw new InvalidError(`Cannot apply limits: the "${ctrl}" cgroup controller is not mounted`);
    }
    return dir;
  };
  writeV1Limits(dirs, r);
  const devices = withRuntimeDevices(r.devices);
  if (devices.length > 0) {
    const dir = need("devices");
    for (const rule of devices) {
      write(dir, rule.allow ? "devices.allow" : "devices.deny", deviceRule(rule));
    }
  }
}

/** A rule in the v1 devices cgroup's syntax: `c 1:3 rwm`, or `a` for everything. */
export function deviceRule(rule: DeviceRule): string {
  const type = rule.type ?? "a";
  const access = rule.access ?? "rwm";
  if (type === "a" && rule.major === undefined && rule.minor === undefined && access === "rwm") {
    return "a";
  }
  const n = (v: number | undefined) => (v === undefined || v < 0 ? "*" : String(v));
  return `${type} ${n(rule.major)}:${n(rule.minor)} ${access}`;
}

function enableV2Controllers(mount: string, rel: string): void {
  const wanted = ["memory", "pids", "cpu", "cpuset", "io", "hugetlb", "rdma"];
  let dir = mount;
  for (const part of rel.split("/")) {
    const available = Deno.readTextFileSync(`${dir}/cgroup.controllers`).trim().split(/\s+/);
    const enable = wanted.filter((c) => available.includes(c)).map((c) => `+${c}`).join(" ");
    if (enable !== "") write(dir, "cgroup.subtree_control", enable);
    dir = `${dir}/${part}`;
    Deno.mkdirSync(dir, { recursive: true });
  }
}

function tryRemove(cg: Cgroup): boolean {
  let done = true;
  for (const dir of Object.values(cg.dirs)) {
    try {
      Deno.removeSync(dir);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) done = false;
    }
  }
  if (done) removeParents(cg);
  return done;
}

/**
 * Removes the parents create made, deepest first; one that is not empty
 * (another container's cgroup is in it) stays.
 */
function removeParents(cg: Cgroup): void {
  const parents = [...(cg.parents ?? [])].sort((a, b) => b.length - a.length);
  for (const dir of parents) {
    try {
      Deno.removeSync(dir);
    } catch {
      // busy or gone: not ours to force
    }
  }
}

function removeCgroupSync(cg: Cgroup): void {
  tryRemove(cg);
}

/**
 * Removes the cgroup's directories, retrying while its processes exit.
 * @returns false when they were still busy after `timeoutMs`
 */
export async function removeCgroup(cg: Cgroup, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1;; delay = Math.min(delay * 2, 50)) {
    if (tryRemove(cg)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
}
