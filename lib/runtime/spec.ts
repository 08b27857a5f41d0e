/**
 * The subset of the OCI runtime-spec `config.json` that berth reads, and its
 * validation: a bad field gives one error naming it (exit 125).
 *
 * @see https://github.com/opencontainers/runtime-spec/blob/main/config.md
 * @module
 */
import { CAPABILITIES } from "../../ffi/caps.ts";
import { InvalidError } from "../errors.ts";

/** A mount of the spec. */
export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** `process.user` */
export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

/** `process.capabilities` */
export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

/** `process` */
export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: { type: string; soft: number; hard: number }[];
  noNewPrivileges?: boolean;
  /** Written to /proc/self/oom_score_adj (docker run --oom-score-adj). */
  oomScoreAdj?: number;
}

/** `linux.resources.memory`: bytes, -1 for unlimited. */
export interface MemoryResources {
  limit?: number;
  reservation?: number;
  /** Memory plus swap (v1 `memory.memsw.limit_in_bytes`). */
  swap?: number;
  /** Deprecated by the spec; refused where the kernel ignores it. */
  kernel?: number;
  kernelTCP?: number;
  /** 0-100; v1 only. */
  swappiness?: number;
  /** v1 only. */
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
}

/** `linux.resources.cpu` */
export interface CpuResources {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  /** Microseconds of realtime scheduling per `realtimePeriod` (v1 only). */
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

/** A block device (`major:minor`) and a value for it. */
export interface WeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

/** A block device (`major:minor`) and a rate (bytes or operations per second). */
export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

/** `linux.resources.blockIO` */
export interface BlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: WeightDevice[];
  throttleReadBpsDevice?: ThrottleDevice[];
  throttleWriteBpsDevice?: ThrottleDevice[];
  throttleReadIOPSDevice?: ThrottleDevice[];
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

/** `linux.resources` (the parts berth applies). */
export interface Resources {
  memory?: MemoryResources;
  cpu?: CpuResources;
  pids?: { limit: number };
  blockIO?: BlockIO;
  /** `pageSize` as the kernel names it: `2MB`, `1GB`, `64KB`. */
  hugepageLimits?: { pageSize: string; limit: number }[];
  /** v1 net_cls and net_prio. */
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  /** Per RDMA device (`mlx5_1`): how many HCA handles and objects. */
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  /** cgroup v2 files of the container's cgroup and their contents. */
  unified?: Record<string, string>;
  /** Device access rules, applied in order (v1 devices cgroup). */
  devices?: DeviceRule[];
}

/** A `linux.resources.devices` rule; an absent type, major or minor means any. */
export interface DeviceRule {
  allow: boolean;
  type?: "a" | "c" | "b";
  major?: number;
  minor?: number;
  access?: string;
}

/** A seccomp argument condition. */
export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

/** `linux.seccomp` */
export interface Seccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }[];
}

/** `linux` */
export interface Linux {
  namespaces?: { type: string; path?: string }[];
  resources?: Resources;
  cgroupsPath?: string;
  devices?: {
    path: string;
    type: string;
    major: number;
    minor: number;
    fileMode?: number;
    uid?: number;
    gid?: number;
  }[];
  maskedPaths?: string[];
  readonlyPaths?: string[];
  sysctl?: Record<string, string>;
  rootfsPropagation?: string;
  seccomp?: Seccomp;
}

/** A hook: a program run with the container's state on stdin. */
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds before it is killed. */
  timeout?: number;
}

/** `hooks` */
export interface Hooks {
  /** Deprecated by the spec; run with createRuntime. */
  prestart?: Hook[];
  createRuntime?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

/** The whole `config.json`. */
export interface Spec {
  ociVersion: string;
  process: Process;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  linux?: Linux;
  annotations?: Record<string, string>;
  hooks?: Hooks;
}

/** The annotation that asks for an overlay rootfs: `{"lowerdir":[...],"upperdir":"...","workdir":"..."}`. */
export const OVERLAY_ANNOTATION = "io.berth.rootfs.overlay";

const NAMESPACE_TYPES = new Set([
  "pid",
  "network",
  "uts",
  "ipc",
  "mount",
  "cgroup",
  "user",
  "time",
]);

const bad = (field: string, why: string) =>
  new InvalidError(`Invalid config.json: "${field}" ${why}`);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string");

const isUint = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/**
 * Checks a parsed `config.json` and returns it typed.
 * @throws {InvalidError} naming the first bad field
 */
export function validateSpec(value: unknown): Spec {
  if (!isObject(value)) throw bad("(root)", "must be a JSON object");
  if (typeof value.ociVersion !== "string") throw bad("ociVersion", "must be a string");
  const root = value.root;
  if (!isObject(root) || typeof root.path !== "string" || root.path === "") {
    throw bad("root.path", "must be a non-empty string");
  }
  const p = value.process;
  if (!isObject(p)) throw bad("process", "must be an object");
  if (!isStrings(p.args) || p.args.length === 0) {
    throw bad("process.args", "must be a non-empty array of strings");
  }
  if (typeof p.cwd !== "string" || !p.cwd.startsWith("/")) {
    throw bad("process.cwd", "must be an absolute path");
  }
  if (p.env !== undefined && !isStrings(p.env)) {
    throw bad("process.env", "must be an array of strings");
  }
  const user = p.user;
  if (!isObject(user) || !isUint(user.uid) || !isUint(user.gid)) {
    throw bad("process.user", "must have numeric uid and gid");
  }
  if (
    user.additionalGids !== undefined &&
    !(Array.isArray(user.additionalGids) && user.additionalGids.every(isUint))
  ) {
    throw bad("process.user.additionalGids", "must be an array of numbers");
  }
  validateCapabilities(p.capabilities);
  validateMounts(value.mounts);
  validateHooks(value.hooks);
  if (value.linux !== undefined) validateLinux(value.linux);
  return value as unknown as Spec;
}

function validateCapabilities(caps: unknown): void {
  if (caps === undefined) return;
  if (!isObject(caps)) throw bad("process.capabilities", "must be an object");
  for (const set of ["bounding", "effective", "permitted", "inheritable", "ambient"]) {
    const list = caps[set];
    if (list === undefined) continue;
    if (!isStrings(list)) throw bad(`process.capabilities.${set}`, "must be an array of strings");
    const unknown = list.find((c) =>
      CAPABILITIES[c.startsWith("CAP_") ? c : `CAP_${c}`] === undefined
    );
    if (unknown !== undefined) {
      throw bad(`process.capabilities.${set}`, `has unknown capability "${unknown}"`);
    }
  }
}

function validateHooks(hooks: unknown): void {
  if (hooks === undefined) return;
  if (!isObject(hooks)) throw bad("hooks", "must be an object");
  for (const [stage, list] of Object.entries(hooks)) {
    if (!Array.isArray(list)) throw bad(`hooks.${stage}`, "must be an array");
    list.forEach((h: unknown, i) => {
      if (!isObject(h) || typeof h.path !== "string" || !h.path.startsWith("/")) {
        throw bad(`hooks.${stage}[${i}].path`, "must be an absolute path");
      }
      if (h.args !== undefined && !isStrings(h.args)) {
        throw bad(`hooks.${stage}[${i}].args`, "must be an array of strings");
      }
      if (h.env !== undefined && !isStrings(h.env)) {
        throw bad(`hooks.${stage}[${i}].env`, "must be an array of strings");
      }
      if (h.timeout !== undefined && !(Number.isInteger(h.timeout) && (h.timeout as number) > 0)) {
        throw bad(`hooks.${stage}[${i}].timeout`, "must be a positive integer");
      }
    });
  }
}

function validateMounts(mounts: unknown): void {
  if (mounts === undefined) return;
  if (!Array.isArray(mounts)) throw bad("mounts", "must be an array");
  mounts.forEach((m: unknown, i) => {
    if (!isObject(m) || typeof m.destination !== "string" || !m.destination.startsWith("/")) {
      throw bad(`mounts[${i}].destination`, "must be an absolute path");
    }
    if (m.options !== undefined && !isStrings(m.options)) {
      throw bad(`mounts[${i}].options`, "must be an array of strings");
    }
  });
}

function validateSeccomp(sc: unknown): void {
  if (sc === undefined) return;
  if (!isObject(sc) || typeof sc.defaultAction !== "string") {
    throw bad("linux.seccomp.defaultAction", "must be a string");
  }
  if (sc.syscalls === undefined) return;
  if (!Array.isArray(sc.syscalls)) throw bad("linux.seccomp.syscalls", "must be an array");
  sc.syscalls.forEach((r: unknown, i) => {
    if (!isObject(r) || !isStrings(r.names) || typeof r.action !== "string") {
      throw bad(`linux.seccomp.syscalls[${i}]`, 'must have "names" and "action"');
    }
    if (
      r.args !== undefined &&
      !(Array.isArray(r.args) &&
        r.args.every((a) =>
          isObject(a) && isUint(a.index) && a.index < 6 && typeof a.op === "string" &&
          Number.isInteger(a.value)
        ))
    ) {
      throw bad(
        `linux.seccomp.syscalls[${i}].args`,
        "must be conditions with index (0-5), value and op",
      );
    }
  });
}

/** The values of `linux.rootfsPropagation` (mount(8)'s propagation words). */
const ROOTFS_PROPAGATIONS = [
  "shared",
  "rshared",
  "slave",
  "rslave",
  "private",
  "rprivate",
  "unbindable",
  "runbindable",
];

function validateLinux(linux: unknown): void {
  if (!isObject(linux)) throw bad("linux", "must be an object");
  const ns = linux.namespaces;
  if (ns !== undefined) {
    if (!Array.isArray(ns)) throw bad("linux.namespaces", "must be an array");
    ns.forEach((n: unknown, i) => {
      if (!isObject(n) || typeof n.type !== "string" || !NAMESPACE_TYPES.has(n.type)) {
        throw bad(
          `linux.namespaces[${i}].type`,
          `must be one of ${[...NAMESPACE_TYPES].join(", ")}`,
        );
      }
      if (n.type === "user") {
        throw bad(
          `linux.namespaces[${i}].type`,
          `"user" is not supported: berth's init cannot enter a new user namespace (it is multithreaded)`,
        );
      }
      if (n.type === "time") {
        throw bad(`linux.namespaces[${i}].type`, `"time" is not supported`);
      }
    });
  }
  validateSeccomp(linux.seccomp);
  for (const field of ["maskedPaths", "readonlyPaths"] as const) {
    const paths = linux[field];
    if (paths === undefined) continue;
    if (!isStrings(paths)) throw bad(`linux.${field}`, "must be an array of strings");
    paths.forEach((path, i) => {
      // The spec: "The values MUST be absolute paths in the container namespace".
      if (!path.startsWith("/")) {
        throw bad(`linux.${field}[${i}]`, `must be an absolute path, not "${path}"`);
      }
    });
  }
  const propagation = linux.rootfsPropagation;
  if (propagation !== undefined && !ROOTFS_PROPAGATIONS.includes(propagation as string)) {
    throw bad(
      "linux.rootfsPropagation",
      `must be one of ${ROOTFS_PROPAGATIONS.join(", ")}, not ${JSON.stringify(propagation)}`,
    );
  }
  const r = linux.resources;
  if (r === undefined) return;
  if (!isObject(r)) throw bad("linux.resources", "must be an object");
  validateResources(r);
}

/** An object whose listed keys, where present, pass `ok`. */
function fields(
  obj: unknown,
  path: string,
  keys: string[],
  ok: (v: unknown) => boolean,
  what: string,
): void {
  if (obj === undefined) return;
  if (!isObject(obj)) throw bad(path, "must be an object");
  for (const k of keys) {
    if (obj[k] !== undefined && !ok(obj[k])) throw bad(`${path}.${k}`, `must be ${what}`);
  }
}

/** A list of objects, each checked by `each`. */
function list(value: unknown, path: string, each: (item: unknown, at: string) => void): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw bad(path, "must be an array");
  value.forEach((item, i) => {
    if (!isObject(item)) throw bad(`${path}[${i}]`, "must be an object");
    each(item, `${path}[${i}]`);
  });
}

const isInt = (v: unknown) => Number.isInteger(v);
const isBool = (v: unknown) => typeof v === "boolean";
const isUint32 = (v: unknown) => isUint(v) && (v as number) <= 0xffffffff;
const CPU_LIST = /^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/;
/** The kernel's hugetlb file names: hugetlb.2MB.*, hugetlb.1GB.*, hugetlb.64KB.* */
const PAGE_SIZE = /^[1-9][0-9]*[KMGTP]?B$/;
/** A file of the cgroup's own directory: `memory.high`, `cpu.weight.nice`. */
const UNIFIED_KEY = /^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/;

function validateResources(r: Record<string, unknown>): void {
  const at = "linux.resources";
  const mem = r.memory;
  fields(
    mem,
    `${at}.memory`,
    ["limit", "reservation", "swap", "kernel", "kernelTCP"],
    isInt,
    "an integer",
  );
  fields(mem, `${at}.memory`, ["disableOOMKiller", "useHierarchy"], isBool, "a boolean");
  fields(
    mem,
    `${at}.memory`,
    ["swappiness"],
    // -1, also written as a uint64 (2^64 - 1, 2 ** 64 once parsed), leaves it unset (runc).
    (v) => (isUint(v) && (v as number) <= 100) || v === -1 || v === 2 ** 64,
    "an integer from 0 to 100",
  );
  const cpu = r.cpu;
  const cpuInts = [
    "shares",
    "quota",
    "burst",
    "period",
    "realtimeRuntime",
    "realtimePeriod",
    "idle",
  ];
  fields(cpu, `${at}.cpu`, cpuInts, isInt, "an integer");
  fields(
    cpu,
    `${at}.cpu`,
    ["cpus", "mems"],
    (v) => typeof v === "string" && (v === "" || CPU_LIST.test(v)),
    'a list such as "0-3,6"',
  );
  fields(r.pids, `${at}.pids`, ["limit"], isInt, "an integer");
  validateBlockIO(r.blockIO);
  list(r.hugepageLimits, `${at}.hugepageLimits`, (h, path) => {
    fields(
      h,
      path,
      ["pageSize"],
      (v) => typeof v === "string" && PAGE_SIZE.test(v),
      'a size such as "2MB"',
    );
    if ((h as Record<string, unknown>).pageSize === undefined) {
      throw bad(`${path}.pageSize`, "is required");
    }
    fields(h, path, ["limit"], isUint, "a non-negative integer");
  });
  const net = r.network;
  fields(net, `${at}.network`, ["classID"], isUint32, "a 32-bit unsigned integer");
  list(
    (net as Record<string, unknown> | undefined)?.priorities,
    `${at}.network.priorities`,
    (p, path) => {
      fields(
        p,
        path,
        ["name"],
        (v) => typeof v === "string" && v !== "" && !v.includes(" "),
        "an interface name",
      );
      fields(p, path, ["priority"], isUint32, "a 32-bit unsigned integer");
      if ((p as Record<string, unknown>).name === undefined) {
        throw bad(`${path}.name`, "is required");
      }
    },
  );
  if (r.rdma !== undefined) {
    if (!isObject(r.rdma)) throw bad(`${at}.rdma`, "must be an object");
    for (const [device, limit] of Object.entries(r.rdma)) {
      if (!/^[^\s/]+$/.test(device)) throw bad(`${at}.rdma`, `has invalid device name "${device}"`);
      fields(
        limit,
        `${at}.rdma.${device}`,
        ["hcaHandles", "hcaObjects"],
        isUint32,
        "a 32-bit unsigned integer",
      );
    }
  }
  if (r.unified !== undefined) {
    if (!isObject(r.unified)) throw bad(`${at}.unified`, "must be an object");
    for (const [key, value] of Object.entries(r.unified)) {
      if (!UNIFIED_KEY.test(key)) {
        throw bad(`${at}.unified`, `has invalid cgroup file name "${key}"`);
      }
      if (typeof value !== "string") throw bad(`${at}.unified.${key}`, "must be a string");
    }
  }
}

function validateBlockIO(b: unknown): void {
  const at = "linux.resources.blockIO";
  fields(
    b,
    at,
    ["weight", "leafWeight"],
    (v) => isUint(v) && (v as number) <= 0xffff,
    "a 16-bit unsigned integer",
  );
  if (b === undefined) return;
  const io = b as Record<string, unknown>;
  const device = (d: unknown, path: string) => {
    const o = d as Record<string, unknown>;
    for (const k of ["major", "minor"]) {
      if (!isUint(o[k])) throw bad(`${path}.${k}`, "must be a non-negative integer");
    }
  };
  list(io.weightDevice, `${at}.weightDevice`, (d, path) => {
    device(d, path);
    fields(
      d,
      path,
      ["weight", "leafWeight"],
      (v) => isUint(v) && (v as number) <= 0xffff,
      "a 16-bit unsigned integer",
    );
  });
  for (
    const key of [
      "throttleReadBpsDevice",
      "throttleWriteBpsDevice",
      "throttleReadIOPSDevice",
      "throttleWriteIOPSDevice",
    ]
  ) {
    list(io[key], `${at}.${key}`, (d, path) => {
      device(d, path);
      if (!isUint((d as Record<string, unknown>).rate)) {
        throw bad(`${path}.rate`, "must be a non-negative integer");
      }
    });
  }
}

/**
 * Reads and validates `<bundle>/config.json`.
 * @throws {InvalidError} naming the bad field (exit 125)
 */
export function loadSpec(bundle: string): Spec {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${bundle}/config.json`);
  } catch (error) {
    throw new InvalidError(`Cannot read bundle "${bundle}": config.json is missing`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidError(`Invalid config.json: ${(error as Error).message}`);
  }
  return validateSpec(value);
}
