/**
 * `create` (and the first half of `run`): a container record and its OCI
 * bundle (config.json with Docker's defaults, overlay of the image's layers,
 * /etc/hostname, /etc/hosts, /etc/resolv.conf) under
 * `<root>/containers/<id>/`. Nothing is left behind when it fails.
 *
 * @module
 */
import { CAPABILITIES } from "../../ffi/caps.ts";
import { ConflictError, EngineError, NotFoundError } from "../errors.ts";
import type { ImageRecord } from "./image_records.ts";
import {
  DEFAULT_CAPABILITIES,
  defaultSpec,
  dockerDefaultSeccomp,
  hostDevices,
  type Mount,
  OVERLAY_ANNOTATION,
  type Resources,
  type Seccomp,
  seccompFromDockerProfile,
  type Spec,
} from "../runtime/mod.ts";
import type { Store } from "../store/mod.ts";
import {
  checkName,
  type ContainerRecord,
  type ContainerStore,
  type HealthConfig,
  newContainerId,
  randomName,
  seccompOption,
  seccompProfileOf,
} from "./container_record.ts";
import { resolveUser } from "./container_user.ts";
import {
  hasCurrentSecurityDefaults,
  SECURITY_DEFAULTS,
  SECURITY_REVISION,
} from "./security_stamp.ts";
import { writeFileAtomic } from "../store/mod.ts";
import {
  checkMounts,
  mountFlagsView,
  type MountInput,
  type MountRequest,
  parseBind,
  parseTmpfs,
  planMounts,
} from "./container_mounts.ts";
import { VolumeStore } from "./volumes.ts";
import {
  applyNetworkMode,
  hostsFile,
  type NetworkRequest,
  planNetwork,
  resolvConfFile,
} from "./container_network.ts";
import {
  choosePorts,
  planPorts,
  type PortFields,
  portIsFree,
  type PortsRequest,
  portsTakenBy,
  startBindings,
} from "./container_ports.ts";

/** What `create`/`run` take (already parsed by the front end). */
export interface ContainerOptions {
  /** The image as the user named it. */
  imageName: string;
  /**
   * The container's ID, when the caller picked it (64 lowercase hex): a
   * foreground `run` does, to start the container's init before the record exists.
   * @default a new random ID
   */
  id?: string;
  command: string[];
  name?: string;
  /** Replaces the image's entrypoint; `""` clears it. */
  entrypoint?: string;
  env?: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  tty?: boolean;
  /** `--platform`: the image must be for it (berth runs no emulator to make it so). */
  platform?: { os: string; architecture?: string };
  /** The pty's size from its first moment (`run -t`: the caller's terminal), rows then columns. */
  consoleSize?: { rows: number; cols: number };
  interactive?: boolean;
  /** Started detached (`run -d`): nothing attaches, and stdin stays open across attaches. */
  detach?: boolean;
  labels?: Record<string, string>;
  memory?: number;
  memorySwap?: number;
  /** CPUs as a fraction (`--cpus 1.5`). */
  cpus?: number;
  cpuShares?: number;
  pidsLimit?: number;
  privileged?: boolean;
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  ulimits?: { name: string; soft: number; hard: number }[];
  restart?: { name: "no" | "always" | "on-failure" | "unless-stopped"; maxRetries: number };
  /** Run a minimal init as PID 1 that reaps zombies and forwards signals (`--init`). */
  init?: boolean;
  autoRemove?: boolean;
  stopSignal?: string;
  stopTimeout?: number;
  /** `-v` as the user wrote each (read with dockerd's grammar here). */
  binds?: string[];
  /** `--mount`, parsed by the front end. */
  mounts?: MountRequest[];
  /** `--tmpfs PATH[:OPTS]`. */
  tmpfs?: string[];
  /** `--volumes-from CONTAINER[:ro|rw]`. */
  volumesFrom?: string[];
  /** `--network`, `--ip`, `--mac-address`, `--add-host`, `--dns`, `--dns-search`. */
  network?: NetworkRequest;
  /** `-p`, `-P`, `--expose`. */
  ports?: PortsRequest;
  /** `--shm-size` in bytes. @default 64 MiB */
  shmSize?: number;
  /** `--ipc private|shareable|host|none|container:X`. @default "private" */
  ipc?: string;
  /** `--pid host|container:X`. */
  pid?: string;
  /** `--uts host`. */
  uts?: string;
  /** `--cgroupns host|private`. @default "private" */
  cgroupns?: string;
  /** `--cgroup-parent`: the container's cgroup goes under it instead of `berth/`. */
  cgroupParent?: string;
  sysctls?: Record<string, string>;
  cpusetCpus?: string;
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryReservation?: number;
  oomKillDisable?: boolean;
  oomScoreAdj?: number;
  /** `--device`: host path, path in the container, cgroup permissions. */
  devices?: { host: string; container: string; permissions: string }[];
  /** `--group-add`: group names (from the image's /etc/group) or IDs. */
  groupAdd?: string[];
  /** `--log-driver`, `--log-opt`; max-size in bytes. */
  log?: { type: string; config: Record<string, string>; maxSize?: number; maxFile?: number };
  /** `--health-*` / `--no-healthcheck`, Docker's shape (ns); merged over the image's. */
  healthcheck?: HealthConfig;
}

const ALL_CAPS = [
  "CAP_AUDIT_CONTROL",
  "CAP_AUDIT_READ",
  "CAP_AUDIT_WRITE",
  "CAP_BLOCK_SUSPEND",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_KILL",
  "CAP_LEASE",
  "CAP_LINUX_IMMUTABLE",
  "CAP_MAC_ADMIN",
  "CAP_MAC_OVERRIDE",
  "CAP_MKNOD",
  "CAP_NET_ADMIN",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_RAW",
  "CAP_PERFMON",
  "CAP_SETFCAP",
  "CAP_SETGID",
  "CAP_SETPCAP",
  "CAP_SETUID",
  "CAP_SYSLOG",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_CHROOT",
  "CAP_SYS_MODULE",
  "CAP_SYS_NICE",
  "CAP_SYS_PACCT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_WAKE_ALARM",
];

function capName(name: string): string {
  const upper = name.toUpperCase();
  const full = upper === "ALL" ? "ALL" : upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
  if (full !== "ALL" && !ALL_CAPS.includes(full)) {
    throw new EngineError(`Unknown capability: "${name}"`);
  }
  return full;
}

/**
 * The capabilities berth itself holds (its bounding set): `--privileged` and
 * `--cap-add ALL` mean "all of these", as Docker's mean "all the daemon has"
 * (root in a container or VM may lack some, e.g. CAP_SYS_RESOURCE).
 */
function hostCapabilities(): string[] {
  let mask = 0n;
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m !== null) mask = BigInt(`0x${m[1]}`);
  } catch {
    return [...ALL_CAPS];
  }
  return ALL_CAPS.filter((name) => {
    const bit = CAPABILITIES[name];
    return bit !== undefined && ((mask >> BigInt(bit)) & 1n) === 1n;
  });
}

/** Docker's capability arithmetic: defaults, minus drops, plus adds (`ALL` allowed in both). */
export function capabilitySet(
  add: readonly string[] = [],
  drop: readonly string[] = [],
  privileged = false,
): string[] {
  if (privileged) return hostCapabilities();
  const adds = add.map(capName);
  const drops = drop.map(capName);
  let caps = drops.includes("ALL") ? [] : DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c));
  if (adds.includes("ALL")) caps = hostCapabilities();
  for (const cap of adds) if (cap !== "ALL" && !caps.includes(cap)) caps.push(cap);
  return caps;
}

function resources(o: ContainerOptions): Resources | undefined {
  const r: Resources = {};
  if (o.memory !== undefined || o.memorySwap !== undefined) {
    r.memory = {
      ...(o.memory !== undefined ? { limit: o.memory } : {}),
      ...(o.memorySwap !== undefined ? { swap: o.memorySwap } : {}),
    };
  }
  if (o.memoryReservation !== undefined || o.oomKillDisable) {
    r.memory = {
      ...r.memory,
      ...(o.memoryReservation !== undefined ? { reservation: o.memoryReservation } : {}),
      ...(o.oomKillDisable ? { disableOOMKiller: true } : {}),
    };
  }
  if (
    o.cpus !== undefined || o.cpuShares !== undefined || o.cpusetCpus !== undefined ||
    o.cpuQuota !== undefined || o.cpuPeriod !== undefined
  ) {
    r.cpu = {
      ...(o.cpuShares !== undefined ? { shares: o.cpuShares } : {}),
      ...(o.cpus !== undefined ? { quota: Math.round(o.cpus * 100_000), period: 100_000 } : {}),
      ...(o.cpuQuota !== undefined ? { quota: o.cpuQuota } : {}),
      ...(o.cpuPeriod !== undefined ? { period: o.cpuPeriod } : {}),
      ...(o.cpusetCpus !== undefined ? { cpus: o.cpusetCpus } : {}),
    };
  }
  if (o.pidsLimit !== undefined && o.pidsLimit > 0) r.pids = { limit: o.pidsLimit };
  return Object.keys(r).length > 0 ? r : undefined;
}

/** Merges `KEY=v` lists; later keys win, order of first appearance kept. */
function mergeEnv(...lists: readonly string[][]): string[] {
  const out = new Map<string, string>();
  for (const list of lists) for (const e of list) out.set(e.split("=")[0]!, e);
  return [...out.values()];
}

/** A host-network container sees the host's /etc/hosts, as in Docker, and its --add-host lines. */
function hostHosts(extraHosts: readonly string[]): string {
  let text: string;
  try {
    text = Deno.readTextFileSync("/etc/hosts");
  } catch {
    return hostsFile(extraHosts, Deno.hostname(), "127.0.1.1");
  }
  if (text !== "" && !text.endsWith("\n")) text += "\n";
  return text + extraHosts.map((l) => `${l}\n`).join("");
}

function hostResolvConf(): string {
  try {
    return Deno.readTextFileSync("/etc/resolv.conf");
  } catch {
    return ""; // no resolver on the host
  }
}

/** The CPUs of a list such as `0-2,5`. */
function cpuList(text: string): Set<number> {
  const cpus = new Set<number>();
  for (const part of text.trim().split(",").filter((p) => p !== "")) {
    const [from, to] = part.split("-").map(Number) as [number, number?];
    for (let c = from; c <= (to ?? from); c++) cpus.add(c);
  }
  return cpus;
}

/**
 * `--cpuset-cpus` names only CPUs containers may use here (the root cpuset's), as Docker's daemon checks.
 * @throws {EngineError} `Requested CPUs are not available - requested 99, available: 0-1`
 */
function checkCpuset(requested: string): void {
  let available: string | undefined;
  for (
    const path of [
      "/sys/fs/cgroup/cpuset/cpuset.effective_cpus",
      "/sys/fs/cgroup/cpuset.cpus.effective",
      "/sys/devices/system/cpu/online",
    ]
  ) {
    try {
      available = Deno.readTextFileSync(path).trim();
      if (available !== "") break;
    } catch {
      // not this cgroup layout
    }
  }
  if (available === undefined || available === "") return;
  const have = cpuList(available);
  if ([...cpuList(requested)].some((c) => !have.has(c))) {
    throw new EngineError(
      `Requested CPUs are not available - requested ${requested}, available: ${available}`,
    );
  }
}

/**
 * The image is for `--platform`'s OS and CPU, or it counts as missing (so
 * `run` pulls that platform's), as Docker's daemon says.
 * @throws {NotFoundError} `image with reference … was found but does not match the specified platform`
 */
function checkPlatform(image: ImageRecord, options: ContainerOptions): void {
  const wanted = options.platform;
  if (wanted === undefined) return;
  const actual = { os: image.config.os ?? "", architecture: image.config.architecture ?? "" };
  if (
    wanted.os === actual.os &&
    (wanted.architecture === undefined || wanted.architecture === actual.architecture)
  ) return;
  const show = (p: { os: string; architecture?: string }) =>
    [p.os, p.architecture].filter(Boolean).join("/");
  throw new NotFoundError(
    `image with reference ${options.imageName} was found but does not match the specified platform: wanted ${
      show(wanted)
    }, actual: ${show(actual)}`,
  );
}

/**
 * Creates a container from an image.
 * @throws {ConflictError} when the name is in use (Docker's words)
 * @throws {EngineError} for a command-less image or a bad user
 */
export async function createContainerRecord(
  store: Store,
  containers: ContainerStore,
  image: ImageRecord,
  options: ContainerOptions,
): Promise<ContainerRecord> {
  checkPlatform(image, options);
  if (options.cpusetCpus !== undefined) checkCpuset(options.cpusetCpus);
  const ic = image.config.config ?? {};
  const entrypoint = options.entrypoint === undefined
    ? ic.Entrypoint ?? []
    : options.entrypoint === ""
    ? []
    : [options.entrypoint];
  const cmd = options.command.length > 0
    ? options.command
    : options.entrypoint === undefined
    ? ic.Cmd ?? []
    : [];
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new EngineError("No command specified");
  const workdir = options.workdir ?? ic.WorkingDir ?? "";
  if (workdir !== "" && !workdir.startsWith("/")) {
    throw new EngineError(
      `The working directory "${workdir}" is invalid, it needs to be an absolute path`,
    );
  }
  const layers = image.chainIds.slice().reverse().map((c) => store.layers.diffPath(c));
  const userSpec = options.user ?? ic.User ?? "";
  const user = resolveUser(userSpec, layers, options.groupAdd);
  const devices = containerDevices(options.devices ?? []);
  if (options.id !== undefined && !/^[0-9a-f]{64}$/.test(options.id)) {
    throw new TypeError(`Invalid container ID "${options.id}": want 64 lowercase hex digits`);
  }
  const id = options.id ?? newContainerId();
  const netRequest = options.network ?? {};
  const ports = planPorts(options.ports ?? {}, ic.ExposedPorts);
  const net = await planNetwork(containers, id, netRequest);
  const hostname = options.hostname ??
    (net.mode === "host" || options.uts === "host" ? Deno.hostname() : id.slice(0, 12));
  if (options.uts === "host" && options.hostname !== undefined) {
    throw new EngineError("Conflicting options: hostname and the UTS mode");
  }
  const ipc = await sharedNamespaceMode(containers, "ipc", options.ipc ?? "private");
  const pid = await sharedNamespaceMode(containers, "pid", options.pid ?? "");
  const env = mergeEnv(ic.Env ?? [], options.env ?? []);
  // The process gets HOME as runc gives it (the user's home when unset); Config.Env shows
  // only what the image and the user set, as Docker's does.
  const processEnv = env.some((e) => e.startsWith("HOME=")) ? env : [...env, `HOME=${user.home}`];
  const dir = containers.path(id);
  const mountFlags = mountFlagsView(options);
  const record: ContainerRecord = {
    Id: id,
    Created: new Date().toISOString(),
    Path: args[0]!,
    Args: args.slice(1),
    State: {
      Status: "created",
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 0,
      ExitCode: 0,
      Error: "",
      StartedAt: "0001-01-01T00:00:00Z",
      FinishedAt: "0001-01-01T00:00:00Z",
    },
    Image: image.id,
    Name: "",
    RestartCount: 0,
    Config: {
      Hostname: hostname,
      Domainname: "",
      User: options.user ?? ic.User ?? "",
      AttachStdin: !options.detach && (options.interactive ?? false),
      AttachStdout: !options.detach,
      AttachStderr: !options.detach,
      Tty: options.tty ?? false,
      OpenStdin: options.interactive ?? false,
      StdinOnce: !options.detach && (options.interactive ?? false),
      Env: env,
      Cmd: cmd.length > 0 ? cmd : null,
      Image: options.imageName,
      Volumes: volumesOf(ic.Volumes, mountFlags.anonymous),
      WorkingDir: workdir,
      Entrypoint: entrypoint.length > 0 ? entrypoint : null,
      OnBuild: null,
      Labels: { ...(ic.Labels ?? {}), ...(options.labels ?? {}) },
      ...(options.stopSignal ?? ic.StopSignal
        ? { StopSignal: options.stopSignal ?? ic.StopSignal! }
        : {}),
      ...(options.stopTimeout !== undefined ? { StopTimeout: options.stopTimeout } : {}),
      ...healthOf(ic.Healthcheck, options.healthcheck),
    },
    HostConfig: {
      AutoRemove: options.autoRemove ?? false,
      Memory: options.memory ?? 0,
      MemorySwap: options.memorySwap ?? 0,
      NanoCpus: Math.round((options.cpus ?? 0) * 1e9),
      CpuShares: options.cpuShares ?? 0,
      PidsLimit: options.pidsLimit ?? null,
      Privileged: options.privileged ?? false,
      ReadonlyRootfs: options.readOnly ?? false,
      CapAdd: options.capAdd ?? null,
      CapDrop: options.capDrop ?? null,
      SecurityOpt: options.securityOpt?.length ? options.securityOpt : null,
      RestartPolicy: {
        Name: options.restart?.name ?? "no",
        MaximumRetryCount: options.restart?.maxRetries ?? 0,
      },
      Init: null,
      Ulimits: options.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })) ?? null,
      NetworkMode: net.mode,
      ...(net.extraHosts.length > 0 ? { ExtraHosts: net.extraHosts } : {}),
      ...(netRequest.dns?.length ? { Dns: netRequest.dns } : {}),
      ...(netRequest.dnsSearch?.length ? { DnsSearch: netRequest.dnsSearch } : {}),
      ...mountFlags.host,
      ShmSize: options.shmSize ?? DEFAULT_SHM_SIZE,
      IpcMode: ipc,
      PidMode: pid,
      UTSMode: options.uts ?? "",
      CgroupnsMode: options.cgroupns ?? "private",
      CgroupParent: options.cgroupParent ?? "",
      ...(options.sysctls ? { Sysctls: options.sysctls } : {}),
      CpusetCpus: options.cpusetCpus ?? "",
      CpuQuota: options.cpuQuota ?? 0,
      CpuPeriod: options.cpuPeriod ?? 0,
      MemoryReservation: options.memoryReservation ?? 0,
      OomKillDisable: options.oomKillDisable ?? false,
      OomScoreAdj: options.oomScoreAdj ?? 0,
      Devices: (options.devices ?? []).map((d) => ({
        PathOnHost: d.host,
        PathInContainer: d.container,
        CgroupPermissions: d.permissions,
      })),
      GroupAdd: options.groupAdd?.length ? options.groupAdd : null,
      LogConfig: {
        Type: options.log?.type ?? "json-file",
        Config: options.log?.config ?? {},
      },
    },
    Layers: image.chainIds,
    NetworkSettings: net.settings,
    ...(netRequest.ip !== undefined || netRequest.mac !== undefined
      ? {
        Net: {
          ...(netRequest.ip !== undefined ? { ip: netRequest.ip } : {}),
          ...(netRequest.mac !== undefined ? { mac: netRequest.mac } : {}),
        },
      }
      : {}),
  };
  const portFields = record as unknown as PortFields;
  portFields.Config.ExposedPorts = ports.exposed;
  portFields.HostConfig.PortBindings = ports.bindings;
  portFields.HostConfig.PublishAllPorts = ports.publishAll;
  if (net.network !== undefined) {
    // Docker's check at start, made before anything exists: a host port another holds.
    choosePorts(startBindings(portFields), portsTakenBy(containers.list()), portIsFree);
  }
  const spec = buildSpec(record, options, user, layers, dir, processEnv);
  applyNamespaceModes(spec, record, devices);
  applyNetworkMode(spec, net.mode);
  const mountInput: MountInput = {
    requests: [
      ...(options.mounts ?? []),
      ...(options.binds ?? []).map(parseBind),
      ...(options.tmpfs ?? []).map(parseTmpfs),
    ],
    volumesFrom: options.volumesFrom ?? [],
    imageVolumes: ic.Volumes,
    layers,
    tmpDir: store.tmpDir,
  };
  checkMounts(mountInput, containers);
  await store.locked(async () => {
    const all = containers.list();
    const taken = new Set(all.map((c) => c.Name));
    const name = options.name === undefined ? randomName(taken) : checkName(options.name);
    const holder = all.find((c) => c.Name === `/${name}`);
    if (holder !== undefined) {
      throw new ConflictError(
        `Conflict. The container name "/${name}" is already in use by container "${holder.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    record.Name = `/${name}`;
    const volumes = new VolumeStore(store.root, store.tmpDir);
    const mounts = await planMounts(mountInput, volumes, containers);
    if (mounts.points.length > 0) record.Mounts = mounts.points;
    if (mounts.spec.length > 0) {
      // The user's mounts replace a default at the same place; parents go before what they hold
      // (a volume on /etc, then /etc/hosts on it).
      const covered = new Set(mounts.spec.map((m) => m.destination));
      const own = (m: Mount) => m.source?.startsWith(`${dir}/`) ?? false;
      const kept = (spec.mounts ?? []).filter((m) => !covered.has(m.destination));
      const depth = (m: Mount) => m.destination.split("/").filter((p) => p !== "").length;
      spec.mounts = [
        ...kept.filter((m) => !own(m)),
        ...[...kept.filter(own), ...mounts.spec].sort((a, b) => depth(a) - depth(b)),
      ];
    }
    try {
      for (const sub of ["bundle/rootfs", "upper", "work"]) {
        Deno.mkdirSync(`${dir}/${sub}`, { recursive: true, mode: 0o755 });
      }
      Deno.writeTextFileSync(`${dir}/hostname`, `${hostname}\n`);
      Deno.writeTextFileSync(
        `${dir}/hosts`,
        net.mode === "host" ? hostHosts(net.extraHosts) : hostsFile(net.extraHosts, hostname),
      );
      Deno.writeTextFileSync(
        `${dir}/resolv.conf`,
        resolvConfFile(hostResolvConf(), netRequest.dns, netRequest.dnsSearch),
      );
      writeFileAtomic(`${dir}/bundle/config.json`, JSON.stringify(spec, null, 2), store.tmpDir);
      containers.write(record);
    } catch (error) {
      Deno.removeSync(dir, { recursive: true });
      for (const volume of mounts.created) volumes.remove(volume);
      throw error;
    }
  });
  return record;
}

/**
 * The seccomp filter for a container, as dockerd picks it:
 * `--security-opt seccomp=unconfined` none, `seccomp=PATH` that Docker-format
 * profile, else (also `seccomp=builtin`) Docker's default profile, which
 * berth carries itself: nothing is read from the host.
 * @throws {EngineError} for a profile that cannot be read or is malformed
 */
function seccompProfile(option: string | undefined, caps: readonly string[]): Seccomp | undefined {
  if (option === "unconfined") return undefined;
  if (option === undefined || option === "builtin") return dockerDefaultSeccomp(caps);
  let profile: unknown;
  try {
    profile = JSON.parse(Deno.readTextFileSync(option));
  } catch (error) {
    throw new EngineError(`Cannot read the seccomp profile "${option}"`, { cause: error });
  }
  return seccompFromDockerProfile(profile, caps);
}

/**
 * Brings the security defaults of a container's config.json, written once at
 * create, up to this berth's before it starts or is exec'd into, as dockerd
 * regenerates its spec at each start: the inheritable and ambient sets go
 * empty (an older berth filled them, CVE-2022-24769; Docker offers no way to
 * ask for them), and a container on the default profile gets berth's own
 * copy of Docker's (an older berth took the host's, or none without one).
 * The file is rewritten (temp file, rename) only when something changed,
 * and stamped with {@linkcode SECURITY_DEFAULTS}, so a container made or
 * brought up to date by this berth costs one read at start and exec.
 */
export function refreshSecurityDefaults(
  record: ContainerRecord,
  dir: string,
  tmpDir: string,
): void {
  const path = `${dir}/bundle/config.json`;
  const text = Deno.readTextFileSync(path);
  if (hasCurrentSecurityDefaults(text)) return;
  const spec: Spec = JSON.parse(text);
  spec.annotations = { ...spec.annotations, [SECURITY_DEFAULTS]: SECURITY_REVISION };
  const caps = spec.process?.capabilities;
  if (caps !== undefined) {
    delete caps.inheritable;
    delete caps.ambient;
  }
  if (spec.linux !== undefined && seccompProfileOf(record) === "builtin") {
    spec.linux.seccomp = dockerDefaultSeccomp(caps?.bounding ?? []);
  }
  const updated = JSON.stringify(spec, null, 2);
  if (updated !== text) writeFileAtomic(path, updated, tmpDir);
}

/** Where `--init` puts the init binary in the container, as Docker. */
const INIT_PATH = "/sbin/docker-init";

/**
 * The host's static init for `--init`: `BERTH_INIT_PATH`, or tini-static
 * (Debian's `tini` package), which is what Docker ships as docker-init.
 * @throws {EngineError} when there is none
 */
function initBinary(): string {
  const candidates = [
    Deno.env.get("BERTH_INIT_PATH"),
    "/usr/bin/tini-static",
    "/usr/bin/docker-init",
  ];
  for (const path of candidates) {
    if (path === undefined || path === "") continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // next
    }
  }
  throw new EngineError(
    "--init needs a static init on the host: install tini (tini-static) or set BERTH_INIT_PATH",
  );
}

const RLIMITS: Record<string, string> = {
  core: "RLIMIT_CORE",
  cpu: "RLIMIT_CPU",
  data: "RLIMIT_DATA",
  fsize: "RLIMIT_FSIZE",
  locks: "RLIMIT_LOCKS",
  memlock: "RLIMIT_MEMLOCK",
  msgqueue: "RLIMIT_MSGQUEUE",
  nice: "RLIMIT_NICE",
  nofile: "RLIMIT_NOFILE",
  nproc: "RLIMIT_NPROC",
  rss: "RLIMIT_RSS",
  rtprio: "RLIMIT_RTPRIO",
  rttime: "RLIMIT_RTTIME",
  sigpending: "RLIMIT_SIGPENDING",
  stack: "RLIMIT_STACK",
};

function buildSpec(
  record: ContainerRecord,
  options: ContainerOptions,
  user: { uid: number; gid: number; additionalGids: number[] },
  layers: string[],
  dir: string,
  /** The process's environment: Config.Env and the HOME berth adds. */
  env: string[],
): Spec {
  const bind = (file: string, dest: string): Mount => ({
    destination: dest,
    type: "bind",
    source: `${dir}/${file}`,
    options: ["rbind", "rprivate"],
  });
  const noNewPrivileges = (options.securityOpt ?? []).some((o) =>
    /^no-new-privileges(:true|=true)?$/.test(o)
  );
  for (const opt of options.securityOpt ?? []) {
    if (seccompOption([opt]) === undefined && !/^no-new-privileges([:=](true|false))?$/.test(opt)) {
      throw new EngineError(`Invalid --security-opt: "${opt}"`);
    }
  }
  const seccompOpt = seccompOption(options.securityOpt);
  const rlimits = (options.ulimits ?? []).map((u) => {
    const type = RLIMITS[u.name];
    if (type === undefined) throw new EngineError(`Invalid ulimit type: ${u.name}`);
    return { type, soft: u.soft, hard: u.hard };
  });
  const res = resources(options);
  const init = options.init ? initBinary() : undefined;
  const spec = defaultSpec({
    args: init ? [INIT_PATH, "--", record.Path, ...record.Args] : [record.Path, ...record.Args],
    env,
    cwd: record.Config.WorkingDir || "/",
    hostname: record.Config.Hostname,
    user,
    terminal: options.tty ?? false,
    readonlyRootfs: options.readOnly ?? false,
    capabilities: capabilitySet(options.capAdd, options.capDrop, options.privileged),
    noNewPrivileges,
    ...(res ? { resources: res } : {}),
    mounts: [
      bind("resolv.conf", "/etc/resolv.conf"),
      bind("hostname", "/etc/hostname"),
      bind("hosts", "/etc/hosts"),
      ...(init
        ? [{
          destination: INIT_PATH,
          type: "bind",
          source: init,
          options: ["rbind", "ro", "rprivate"],
        }]
        : []),
    ],
    annotations: {
      [SECURITY_DEFAULTS]: SECURITY_REVISION,
      [OVERLAY_ANNOTATION]: JSON.stringify({
        lowerdir: layers,
        upperdir: `${dir}/upper`,
        workdir: `${dir}/work`,
      }),
    },
  });
  if (options.tty && options.consoleSize !== undefined) {
    spec.process.consoleSize = {
      height: options.consoleSize.rows,
      width: options.consoleSize.cols,
    };
  }
  spec.process.rlimits = [
    ...defaultRlimits().filter((d) => !rlimits.some((r) => r.type === d.type)),
    ...rlimits,
  ];
  const seccomp = options.privileged
    ? undefined
    : seccompProfile(seccompOpt, spec.process.capabilities?.bounding ?? []);
  if (seccomp !== undefined && spec.linux) spec.linux.seccomp = seccomp;
  if (options.privileged && spec.linux) {
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
    // Docker's --privileged: every host device node, and access to any device.
    spec.linux.devices = hostDevices();
    spec.linux.resources = { ...spec.linux.resources, devices: [{ allow: true, access: "rwm" }] };
    for (const m of spec.mounts ?? []) {
      if (m.destination === "/sys") m.options = (m.options ?? []).filter((o) => o !== "ro");
    }
  }
  return spec;
}

/** Config.Volumes: the image's VOLUMEs and the anonymous `-v` paths, or null without any. */
function volumesOf(
  image: Record<string, Record<string, never>> | null | undefined,
  anonymous: string[],
): Record<string, Record<string, never>> | null {
  const all = { ...(image ?? {}) };
  for (const path of anonymous) all[path] = {};
  return Object.keys(all).length > 0 ? all : null;
}

/** Docker's /dev/shm: 64 MiB. */
const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/**
 * `--ipc`/`--pid` `container:NAME` as `container:ID` (the other container
 * must exist; its namespace is joined at each start); other modes as given.
 * @throws {NotFoundError} `No such container: NAME`
 */
function sharedNamespaceMode(containers: ContainerStore, _kind: "ipc" | "pid", mode: string) {
  if (!mode.startsWith("container:")) return mode;
  const ref = mode.slice("container:".length);
  try {
    return `container:${containers.resolve(ref).Id}`;
  } catch {
    throw new NotFoundError(`No such container: ${ref}`);
  }
}

/**
 * Config.Healthcheck as Docker merges it: the flags' fields over the
 * image's HEALTHCHECK (a zero or absent field takes the image's);
 * `--no-healthcheck` is `["NONE"]`.
 */
function healthOf(
  imageConfig: { Test?: string[] | null } & Omit<HealthConfig, "Test"> | undefined,
  flags: HealthConfig | undefined,
): { Healthcheck?: HealthConfig } {
  let image: HealthConfig | undefined;
  if (imageConfig !== undefined) {
    const { Test, ...rest } = imageConfig;
    image = { ...rest, ...(Test ? { Test } : {}) };
  }
  if (flags === undefined) return image === undefined ? {} : { Healthcheck: { ...image } };
  if (flags.Test?.[0] === "NONE") return { Healthcheck: { Test: ["NONE"] } };
  const merged: HealthConfig = { ...(image ?? {}) };
  for (const key of ["Test", "Interval", "Timeout", "StartPeriod", "Retries"] as const) {
    const value = flags[key];
    if (value !== undefined && !(typeof value === "number" && value === 0)) {
      (merged as Record<string, unknown>)[key] = value;
    }
  }
  return Object.keys(merged).length > 0 ? { Healthcheck: merged } : {};
}

type LinuxDevice = ReturnType<typeof hostDevices>[number];

/**
 * `--device` entries as `linux.devices`: the host's node (every node under
 * a directory), at its path in the container.
 * @throws {EngineError} Docker's error for a path that is not a device
 */
function containerDevices(
  requests: readonly { host: string; container: string; permissions: string }[],
): { device: LinuxDevice; permissions: string }[] {
  const out: { device: LinuxDevice; permissions: string }[] = [];
  for (const r of requests) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(r.host);
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound
        ? "no such file or directory"
        : String(error);
      throw new EngineError(
        `error gathering device information while adding custom device "${r.host}": ${why}`,
      );
    }
    if (info.isDirectory) {
      for (const d of hostDevices(r.host)) {
        out.push({
          device: { ...d, path: r.container + d.path.slice(r.host.length) },
          permissions: r.permissions,
        });
      }
      continue;
    }
    const slash = r.host.lastIndexOf("/");
    const found = hostDevices(r.host.slice(0, slash) || "/").find((d) => d.path === r.host);
    if (found === undefined) {
      throw new EngineError(
        `error gathering device information while adding custom device "${r.host}": not a device node`,
      );
    }
    out.push({ device: { ...found, path: r.container }, permissions: r.permissions });
  }
  return out;
}

/** Whether this process holds CAP_SYS_RESOURCE (it may raise a hard rlimit). */
function canRaiseLimits(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"));
    return m !== null && ((BigInt(`0x${m[1]}`) >> 24n) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** This process's hard limit of `name` (`Max open files`), or undefined if unlimited/unknown. */
function ownHardLimit(label: string): number | undefined {
  try {
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n").find((l) =>
      l.startsWith(label)
    );
    const hard = line?.slice(26).trim().split(/\s+/)[1];
    return hard === undefined || hard === "unlimited" ? undefined : Number(hard);
  } catch {
    return undefined;
  }
}

/**
 * The rlimits every container gets unless `--ulimit` says otherwise, so that
 * they do not depend on the shell berth was started from. They are Docker's
 * daemon's (its systemd unit sets LimitNOFILE=infinity, i.e. the kernel's
 * nr_open, 1048576 by default; LimitNPROC and LimitCORE infinity):
 * RLIMIT_NOFILE 1048576:1048576 and RLIMIT_NPROC, RLIMIT_CORE unlimited.
 * Where berth may not raise limits (no CAP_SYS_RESOURCE), each is capped at
 * berth's own hard limit, as the kernel would refuse more.
 */
export function defaultRlimits(): { type: string; soft: number; hard: number }[] {
  const raise = canRaiseLimits();
  const UNLIMITED = -1; // RLIM_INFINITY, as Docker's `--ulimit core=-1`
  let nrOpen = 1048576;
  try {
    nrOpen = Number(Deno.readTextFileSync("/proc/sys/fs/nr_open").trim()) || nrOpen;
  } catch {
    // keep Docker's
  }
  const cap = (want: number, label: string) => {
    const own = ownHardLimit(label);
    if (raise || own === undefined) return want;
    return want === UNLIMITED ? own : Math.min(want, own);
  };
  const nofile = cap(Math.min(1048576, nrOpen), "Max open files");
  const nproc = cap(UNLIMITED, "Max processes");
  const core = cap(UNLIMITED, "Max core file size");
  return [
    { type: "RLIMIT_NOFILE", soft: nofile, hard: nofile },
    { type: "RLIMIT_NPROC", soft: nproc, hard: nproc },
    { type: "RLIMIT_CORE", soft: core, hard: core },
  ];
}

/**
 * The spec's namespaces, /dev/shm, sysctls, devices, cgroup parent and OOM
 * score as the record's HostConfig says (`--ipc`, `--pid`, `--uts`,
 * `--cgroupns`, `--shm-size`, `--sysctl`, `--device`, `--cgroup-parent`,
 * `--oom-score-adj`). A `container:ID` mode is joined at each start
 * ({@linkcode joinSharedNamespaces}).
 */
function applyNamespaceModes(
  spec: Spec,
  record: ContainerRecord,
  devices: { device: LinuxDevice; permissions: string }[],
): void {
  const h = record.HostConfig;
  const linux = spec.linux ??= {};
  const drop = (type: string) => {
    linux.namespaces = (linux.namespaces ?? []).filter((n) => n.type !== type);
  };
  if (h.IpcMode === "host") drop("ipc");
  if (h.PidMode === "host") drop("pid");
  if (h.UTSMode === "host") {
    drop("uts");
    delete spec.hostname;
  }
  if (h.CgroupnsMode === "host") drop("cgroup");
  const shm = (spec.mounts ?? []).findIndex((m) => m.destination === "/dev/shm");
  if (shm >= 0) {
    if (h.IpcMode === "none") {
      spec.mounts!.splice(shm, 1);
    } else if (h.IpcMode === "host") {
      spec.mounts![shm] = {
        destination: "/dev/shm",
        type: "bind",
        source: "/dev/shm",
        options: ["rbind", "nosuid", "noexec", "nodev"],
      };
    } else {
      const m = spec.mounts![shm]!;
      m.options = (m.options ?? []).map((o) => o.startsWith("size=") ? `size=${h.ShmSize}` : o);
    }
  }
  if (h.Sysctls) linux.sysctl = { ...h.Sysctls };
  if (devices.length > 0) {
    linux.devices = [...(linux.devices ?? []), ...devices.map((d) => d.device)];
    linux.resources = {
      ...linux.resources,
      devices: [
        ...(linux.resources?.devices ?? []),
        ...devices.map((d) => ({
          allow: true,
          type: d.device.type as "c" | "b",
          major: d.device.major,
          minor: d.device.minor,
          access: d.permissions,
        })),
      ],
    };
  }
  if (h.CgroupParent) linux.cgroupsPath = `${h.CgroupParent.replace(/\/+$/, "")}/${record.Id}`;
  if (h.OomScoreAdj) spec.process.oomScoreAdj = h.OomScoreAdj;
}
