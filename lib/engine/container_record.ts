/**
 * Containers as Docker describes them (`docker inspect`'s shape), stored one
 * file each at `<root>/containers/<id>/container.json`, written atomically.
 *
 * @module
 */
import { ConflictError, InvalidError, NotFoundError } from "../errors.ts";
import { writeFileAtomic } from "../store/mod.ts";
import type { NetworkSettingsView } from "./container_network_view.ts";

/** Docker's container states. */
export type ContainerStatus =
  | "created"
  | "running"
  | "paused"
  | "restarting"
  | "removing"
  | "exited"
  | "dead";

/** `State` of `docker inspect`. */
export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Its health check's state: only for a container with a check, once started. */
  Health?: ContainerHealth;
}

/** Docker's health states (`State.Health.Status`). */
export type HealthStatus = "starting" | "healthy" | "unhealthy";

/** One run of a health check, as `State.Health.Log` lists it. */
export interface HealthLogEntry {
  Start: string;
  End: string;
  /** 0 healthy, else a failure; -1 when it could not run or ran past its timeout. */
  ExitCode: number;
  /** Its stdout and stderr together, cut at 4 KiB. */
  Output: string;
}

/** `State.Health` of `docker inspect`. */
export interface ContainerHealth {
  Status: HealthStatus;
  /** Failures in a row (not counting those in the start period). */
  FailingStreak: number;
  /** The last five runs, oldest first. */
  Log: HealthLogEntry[];
}

/**
 * The health part of Docker's status line (`Up 5 seconds (healthy)`): empty
 * for a container that is not running (or paused) or has no check.
 */
export function healthSuffix(state: ContainerState): string {
  if (state.Health === undefined || !state.Running || state.Paused || state.Restarting) return "";
  return state.Health.Status === "starting" ? " (health: starting)" : ` (${state.Health.Status})`;
}

/** `Config` of `docker inspect` (what the container runs). */
export interface ContainerConfigView {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Image: string;
  Volumes: Record<string, Record<string, never>> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  /** Docker's shape, durations in nanoseconds: the image's HEALTHCHECK merged with the flags. */
  Healthcheck?: HealthConfig;
}

/** `Config.Healthcheck`: `Test` is `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", cmd]`. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

/** `HostConfig` of `docker inspect` (how berth runs it). */
export interface HostConfigView {
  AutoRemove: boolean;
  Memory: number;
  MemorySwap: number;
  NanoCpus: number;
  CpuShares: number;
  PidsLimit: number | null;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  SecurityOpt: string[] | null;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  Init: boolean | null;
  Ulimits: { Name: string; Soft: number; Hard: number }[] | null;
  NetworkMode: string;
  /** `--add-host`, as `ip\thost` lines of /etc/hosts (host-gateway resolved); absent without any. */
  ExtraHosts?: string[] | null;
  /** `--dns`; absent without any. */
  Dns?: string[];
  /** `--dns-search`; absent without any. */
  DnsSearch?: string[];
  /** `-v` with a source (host path or volume name), as given; null without any. */
  Binds?: string[] | null;
  /** `--volumes-from`, as given; null without any. */
  VolumesFrom?: string[] | null;
  /** `--mount`, in Docker's mount.Mount shape; absent without any. */
  Mounts?: HostMount[];
  /** `--tmpfs PATH` -> its options; absent without any. */
  Tmpfs?: Record<string, string>;
  /** `run`/`create` flags, in Docker's names; absent on older records (Docker's defaults). */
  ShmSize?: number;
  IpcMode?: string;
  PidMode?: string;
  UTSMode?: string;
  CgroupnsMode?: string;
  CgroupParent?: string;
  Sysctls?: Record<string, string>;
  CpusetCpus?: string;
  CpuQuota?: number;
  CpuPeriod?: number;
  MemoryReservation?: number;
  OomKillDisable?: boolean;
  OomScoreAdj?: number;
  Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
  GroupAdd?: string[] | null;
  LogConfig?: { Type: string; Config: Record<string, string> };
}

/** One `--mount` as `docker inspect` shows it in HostConfig.Mounts. */
export interface HostMount {
  Type: "bind" | "volume" | "tmpfs";
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation: string };
  VolumeOptions?: { NoCopy?: boolean; DriverConfig?: { Options: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** One of a container's mounts, as `docker inspect` lists it. */
export interface MountPoint {
  Type: "bind" | "volume" | "tmpfs";
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** berth: an anonymous volume (removed by `rm -v`). */
  Anonymous?: boolean;
}

/** One container. */
export interface ContainerRecord {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  /** The image ID. */
  Image: string;
  /** `/name`, as Docker. */
  Name: string;
  RestartCount: number;
  Config: ContainerConfigView;
  HostConfig: HostConfigView;
  /** The image's layer chain IDs, bottom first (kept so rmi knows what is in use). */
  Layers: string[];
  /** The process that supervises the container while it runs. */
  Monitor?: { pid: number; startTime: string };
  /** Set by `stop`/`kill` so that the restart policy leaves it stopped. */
  StoppedByUser?: boolean;
  /** Its volumes, binds and tmpfs mounts (absent on older records: none). */
  Mounts?: MountPoint[];
  /** Its networks, as inspect shows them (absent on older records: none). */
  NetworkSettings?: NetworkSettingsView;
  /** `--ip` and `--mac-address`, asked of the network at each start. */
  Net?: { ip?: string; mac?: string };
}

const ID_RE = /^[a-f0-9]{64}$/;
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * Checks a container name against Docker's rule.
 * @throws {InvalidError} `Invalid container name ("x"), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`
 */
export function checkName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new InvalidError(
      `Invalid container name ("${name}"), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  return name.replace(/^\//, "");
}

/** A live process's start time (clock ticks after boot); undefined once it is gone or a zombie. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
    return fields[0] === "Z" || fields[0] === "X" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/** Whether a record's monitor process is still the one that wrote it. */
export function monitorAlive(record: ContainerRecord): boolean {
  const m = record.Monitor;
  return m !== undefined && startTimeOf(m.pid) === m.startTime;
}

/**
 * Whether a record that says running (or restarting) is out of date: its
 * monitor is gone, or (given berth's run root) the container has ended and
 * conmon's exit file waits to be recorded. Such a record needs the
 * monitor's reconcile before it is shown. Reads /proc (and the exit file)
 * only for records that say running.
 */
export function needsReconcile(record: ContainerRecord, runRoot?: string): boolean {
  if (!record.State.Running && !record.State.Restarting) return false;
  if (!monitorAlive(record)) return true;
  if (runRoot === undefined || !record.State.Running) return false;
  try {
    Deno.lstatSync(`${runRoot}/exits/${record.Id}`);
    return true;
  } catch {
    return false;
  }
}

/** Marks a record running with init `pid`, started `now` (a new run: no error, no exit). */
export function markRunning(record: ContainerRecord, pid: number, now: string): void {
  record.State = {
    ...record.State,
    Status: "running",
    Running: true,
    Restarting: false,
    Paused: false,
    Pid: pid,
    Error: "",
    StartedAt: now,
    OOMKilled: false,
    ExitCode: 0,
  };
  // A health check starts over with each run (its log stays), as Docker's does.
  const health = record.State.Health;
  if (health !== undefined) {
    record.State.Health = { Status: "starting", FailingStreak: 0, Log: health.Log };
  }
}

/**
 * Marks a record's run ended with `exitCode`: exited, or restarting when its
 * restart policy wants it back (decided in the same write, so that no reader
 * sees "exited" between two runs).
 * @returns whether it restarts
 */
export function markEnded(record: ContainerRecord, exitCode: number, oomKilled: boolean): boolean {
  const again = shouldRestart(record, exitCode);
  record.State = {
    ...record.State,
    Status: again ? "restarting" : "exited",
    Running: false,
    Restarting: again,
    Paused: false,
    Pid: 0,
    ExitCode: exitCode,
    OOMKilled: oomKilled,
    FinishedAt: new Date().toISOString(),
  };
  return again;
}

/** Docker's restart rules; a container stopped by the user stays stopped. */
export function shouldRestart(record: ContainerRecord, exitCode: number): boolean {
  if (record.StoppedByUser) return false;
  const { Name, MaximumRetryCount } = record.HostConfig.RestartPolicy;
  if (Name === "always" || Name === "unless-stopped") return true;
  if (Name === "on-failure") {
    return exitCode !== 0 && (MaximumRetryCount === 0 || record.RestartCount < MaximumRetryCount);
  }
  return false;
}

const SECCOMP_OPT = /^seccomp[=:](.+)$/;

/** The last `seccomp=` of `--security-opt` (Docker's: the last one wins). */
export function seccompOption(
  securityOpt: readonly string[] | null | undefined,
): string | undefined {
  let option: string | undefined;
  for (const opt of securityOpt ?? []) {
    const m = SECCOMP_OPT.exec(opt);
    if (m !== null) option = m[1]!;
  }
  return option;
}

/**
 * Which seccomp profile a container runs with, as `inspect` shows it:
 * `builtin` (berth's copy of Docker's default), `unconfined` (none; also
 * `--privileged`), or the path of the profile file it was given.
 */
export function seccompProfileOf(record: ContainerRecord): string {
  if (record.HostConfig.Privileged) return "unconfined";
  return seccompOption(record.HostConfig.SecurityOpt) ?? "builtin";
}

/** The container directory of a store root. */
export class ContainerStore {
  /** The store root this directory of containers belongs to. */
  readonly root: string;
  readonly dir: string;
  readonly tmpDir: string;

  constructor(root: string, tmpDir: string) {
    this.root = root;
    this.dir = `${root}/containers`;
    this.tmpDir = tmpDir;
    Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** A container's own directory. */
  path(id: string): string {
    return `${this.dir}/${id}`;
  }

  /** Every container (records that cannot be read are skipped: a create in progress). */
  list(): ContainerRecord[] {
    const out: ContainerRecord[] = [];
    for (const entry of Deno.readDirSync(this.dir)) {
      if (!ID_RE.test(entry.name)) continue;
      try {
        out.push(this.read(entry.name));
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    return out;
  }

  /** @throws {NotFoundError} */
  read(id: string): ContainerRecord {
    try {
      return JSON.parse(
        Deno.readTextFileSync(`${this.path(id)}/container.json`),
      ) as ContainerRecord;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new NotFoundError(`No such container: ${id}`);
      }
      throw error;
    }
  }

  write(record: ContainerRecord): void {
    writeFileAtomic(
      `${this.path(record.Id)}/container.json`,
      JSON.stringify(record, null, 2),
      this.tmpDir,
    );
  }

  /** Re-reads, changes and writes a record. */
  update(id: string, change: (record: ContainerRecord) => void): ContainerRecord {
    const record = this.read(id);
    change(record);
    this.write(record);
    return record;
  }

  /**
   * Finds a container by full ID, name, or unique ID prefix, as Docker.
   * @throws {NotFoundError} `No such container: x`
   */
  resolve(given: string, all = this.list()): ContainerRecord {
    const exact = all.find((c) => c.Id === given || c.Name === `/${given.replace(/^\//, "")}`);
    if (exact !== undefined) return exact;
    if (/^[a-f0-9]+$/.test(given)) {
      const hits = all.filter((c) => c.Id.startsWith(given));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) {
        throw new ConflictError(`Multiple IDs found with provided prefix: ${given}`);
      }
    }
    throw new NotFoundError(`No such container: ${given}`);
  }
}

const ADJECTIVES = [
  "admiring",
  "bold",
  "brave",
  "clever",
  "dazzling",
  "eager",
  "elegant",
  "epic",
  "focused",
  "gallant",
  "happy",
  "jolly",
  "keen",
  "kind",
  "lucid",
  "modest",
  "nifty",
  "quirky",
  "serene",
  "sharp",
  "silly",
  "stoic",
  "sweet",
  "tender",
  "upbeat",
  "vibrant",
  "wizardly",
  "zealous",
  "zen",
  "youthful",
];
const SURNAMES = [
  "babbage",
  "bohr",
  "curie",
  "darwin",
  "dijkstra",
  "einstein",
  "euclid",
  "fermi",
  "galileo",
  "hopper",
  "hypatia",
  "kepler",
  "knuth",
  "lamport",
  "lovelace",
  "mccarthy",
  "meitner",
  "newton",
  "noether",
  "pasteur",
  "pike",
  "ritchie",
  "shannon",
  "thompson",
  "torvalds",
  "turing",
  "volhard",
  "wozniak",
  "yalow",
  "zhukovsky",
];

/** A Docker-style random name (`eager_turing`) not in `taken`. */
export function randomName(taken: ReadonlySet<string>): string {
  for (let i = 0;; i++) {
    const r = crypto.getRandomValues(new Uint32Array(2));
    const name = `${ADJECTIVES[r[0]! % ADJECTIVES.length]}_${SURNAMES[r[1]! % SURNAMES.length]}${
      i > 10 ? i : ""
    }`;
    if (!taken.has(`/${name}`)) return name;
  }
}

/** A new 64-hex container ID. */
export function newContainerId(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}
