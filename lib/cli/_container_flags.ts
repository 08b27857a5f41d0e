/**
 * The flags `run` and `create` share, and their translation into the
 * engine's typed container options (sizes, CPUs, restart policy, ulimits).
 *
 * @module
 */
import { FlagError } from "./_args.ts";
import { EngineError, UsageError } from "../errors.ts";
import { parsePlatform } from "../image/mod.ts";
import type { ContainerOptions } from "../engine/mod.ts";
import type { FlagSpec, FlagValues } from "./_args.ts";
import { bool, int, list, str } from "./_command.ts";
import { parseBytes, parseDuration } from "./_units.ts";

/** Flags of `create` (and `run`, which adds its own). */
export const CONTAINER_FLAGS: FlagSpec[] = [
  {
    name: "interactive",
    short: "i",
    type: "bool",
    description: "Keep STDIN open even if not attached",
  },
  { name: "tty", short: "t", type: "bool", description: "Allocate a pseudo-TTY" },
  { name: "name", type: "string", value: "string", description: "Assign a name to the container" },
  {
    name: "env",
    short: "e",
    type: "list",
    value: "list",
    description: "Set environment variables",
  },
  {
    name: "env-file",
    type: "list",
    value: "list",
    description: "Read in a file of environment variables",
  },
  {
    name: "user",
    short: "u",
    type: "string",
    value: "string",
    description: "Username or UID (format: <name|uid>[:<group|gid>])",
  },
  {
    name: "workdir",
    short: "w",
    type: "string",
    value: "string",
    description: "Working directory inside the container",
  },
  {
    name: "entrypoint",
    type: "string",
    value: "string",
    description: "Overwrite the default ENTRYPOINT of the image",
  },
  {
    name: "hostname",
    short: "h",
    type: "string",
    value: "string",
    description: "Container host name",
  },
  {
    name: "label",
    short: "l",
    type: "list",
    value: "list",
    description: "Set meta data on a container",
  },
  { name: "memory", short: "m", type: "string", value: "bytes", description: "Memory limit" },
  {
    name: "memory-swap",
    type: "string",
    value: "bytes",
    description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
  },
  { name: "cpus", type: "string", value: "decimal", description: "Number of CPUs" },
  {
    name: "cpu-shares",
    short: "c",
    type: "int",
    value: "int",
    description: "CPU shares (relative weight)",
  },
  {
    name: "pids-limit",
    type: "int",
    value: "int",
    description: "Tune container pids limit (set -1 for unlimited)",
  },
  { name: "privileged", type: "bool", description: "Give extended privileges to this container" },
  {
    name: "read-only",
    type: "bool",
    description: "Mount the container's root filesystem as read only",
  },
  { name: "cap-add", type: "list", value: "list", description: "Add Linux capabilities" },
  { name: "cap-drop", type: "list", value: "list", description: "Drop Linux capabilities" },
  {
    name: "security-opt",
    type: "list",
    value: "list",
    description: "Security Options (no-new-privileges)",
  },
  {
    name: "ulimit",
    type: "list",
    value: "ulimit",
    description: "Ulimit options (e.g. nofile=1024:2048)",
  },
  {
    name: "restart",
    type: "string",
    value: "string",
    description: "Restart policy: no, on-failure[:N], always, unless-stopped",
    default: "no",
  },
  { name: "rm", type: "bool", description: "Automatically remove the container when it exits" },
  {
    name: "init",
    type: "bool",
    description: "Run an init inside the container that forwards signals and reaps processes",
  },
  {
    name: "stop-signal",
    type: "string",
    value: "string",
    description: "Signal to stop the container",
  },
  {
    name: "stop-timeout",
    type: "int",
    value: "int",
    description: "Timeout (in seconds) to stop a container",
  },
  {
    name: "network",
    type: "string",
    value: "network",
    description: "Connect a container to a network (default bridge, or $BERTH_DEFAULT_NETWORK)",
  },
  { name: "net", type: "string", value: "network", description: "Alias of --network" },
  {
    name: "ip",
    type: "string",
    value: "string",
    description: "IPv4 address (e.g., 172.30.100.104)",
  },
  {
    name: "network-alias",
    type: "list",
    value: "list",
    description: "Add network-scoped alias for the container",
  },
  {
    name: "mac-address",
    type: "string",
    value: "string",
    description: "Container MAC address (e.g., 92:d0:c6:0a:29:33)",
  },
  {
    name: "add-host",
    type: "list",
    value: "list",
    description: "Add a custom host-to-IP mapping (host:ip)",
  },
  {
    name: "publish",
    short: "p",
    type: "list",
    value: "list",
    description: "Publish a container's port(s) to the host",
  },
  {
    name: "publish-all",
    short: "P",
    type: "bool",
    description: "Publish all exposed ports to random ports",
  },
  { name: "expose", type: "list", value: "list", description: "Expose a port or a range of ports" },
  { name: "dns", type: "list", value: "list", description: "Set custom DNS servers" },
  { name: "dns-search", type: "list", value: "list", description: "Set custom DNS search domains" },
  { name: "volume", short: "v", type: "list", value: "list", description: "Bind mount a volume" },
  {
    name: "mount",
    type: "list",
    value: "mount",
    description: "Attach a filesystem mount to the container",
  },
  { name: "tmpfs", type: "list", value: "list", description: "Mount a tmpfs directory" },
  {
    name: "volumes-from",
    type: "list",
    value: "list",
    description: "Mount volumes from the specified container(s)",
  },
  {
    name: "attach",
    short: "a",
    type: "list",
    value: "list",
    description: "Attach to STDIN, STDOUT or STDERR",
  },
  {
    name: "cidfile",
    type: "string",
    value: "string",
    description: "Write the container ID to the file",
  },
  {
    name: "pull",
    type: "string",
    value: "string",
    description: 'Pull image before running ("always", "missing", "never")',
    default: "missing",
  },
  {
    name: "platform",
    type: "string",
    value: "string",
    description: "Set platform if server is multi-platform capable",
  },
  {
    name: "quiet",
    short: "q",
    type: "bool",
    description: "Suppress the pull output",
  },
  { name: "shm-size", type: "string", value: "bytes", description: "Size of /dev/shm" },
  { name: "ipc", type: "string", value: "string", description: "IPC mode to use" },
  { name: "pid", type: "string", value: "string", description: "PID namespace to use" },
  { name: "uts", type: "string", value: "string", description: "UTS namespace to use" },
  {
    name: "cgroupns",
    type: "string",
    value: "string",
    description: "Cgroup namespace to use (host|private)",
  },
  {
    name: "cgroup-parent",
    type: "string",
    value: "string",
    description: "Optional parent cgroup for the container",
  },
  { name: "sysctl", type: "list", value: "map", description: "Sysctl options" },
  {
    name: "label-file",
    type: "list",
    value: "list",
    description: "Read in a line delimited file of labels",
  },
  {
    name: "cpuset-cpus",
    type: "string",
    value: "string",
    description: "CPUs in which to allow execution (0-3, 0,1)",
  },
  {
    name: "cpu-quota",
    type: "int",
    value: "int",
    description: "Limit CPU CFS (Completely Fair Scheduler) quota",
  },
  {
    name: "cpu-period",
    type: "int",
    value: "int",
    description: "Limit CPU CFS (Completely Fair Scheduler) period",
  },
  {
    name: "memory-reservation",
    type: "string",
    value: "bytes",
    description: "Memory soft limit",
  },
  { name: "oom-kill-disable", type: "bool", description: "Disable OOM Killer" },
  {
    name: "oom-score-adj",
    type: "int",
    value: "int",
    description: "Tune host's OOM preferences (-1000 to 1000)",
  },
  {
    name: "device",
    type: "list",
    value: "list",
    description: "Add a host device to the container",
  },
  { name: "group-add", type: "list", value: "list", description: "Add additional groups to join" },
  {
    name: "log-driver",
    type: "string",
    value: "string",
    description: "Logging driver for the container",
  },
  { name: "log-opt", type: "list", value: "list", description: "Log driver options" },
  {
    name: "health-cmd",
    type: "string",
    value: "string",
    description: "Command to run to check health",
  },
  {
    name: "health-interval",
    type: "string",
    value: "duration",
    description: "Time between running the check (ms|s|m|h) (default 0s)",
  },
  {
    name: "health-timeout",
    type: "string",
    value: "duration",
    description: "Maximum time to allow one check to run (ms|s|m|h) (default 0s)",
  },
  {
    name: "health-start-period",
    type: "string",
    value: "duration",
    description:
      "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)",
  },
  {
    name: "health-retries",
    type: "int",
    value: "int",
    description: "Consecutive failures needed to report unhealthy",
  },
  {
    name: "no-healthcheck",
    type: "bool",
    description: "Disable any container-specified HEALTHCHECK",
  },
];

type MountRequest = NonNullable<ContainerOptions["mounts"]>[number];

const MOUNT_KEYS = [
  "type",
  "source",
  "src",
  "target",
  "dst",
  "destination",
  "readonly",
  "ro",
  "bind-propagation",
  "bind-nonrecursive",
  "volume-nocopy",
  "volume-opt",
  "volume-driver",
  "volume-label",
  "tmpfs-size",
  "tmpfs-mode",
  "consistency",
];

/**
 * `--mount type=…,source=…,target=…[,…]` as Docker's CLI reads it.
 * @throws {UsageError} `invalid argument "…" for "--mount" flag: …`
 */
export function parseMount(raw: string): MountRequest {
  const fail = (why: string) =>
    new UsageError(`invalid argument "${raw}" for "--mount" flag: ${why}`);
  const boolOf = (key: string, value: string | undefined) => {
    if (value === undefined) return true;
    const v = value.toLowerCase();
    if (["1", "t", "true"].includes(v)) return true;
    if (["0", "f", "false"].includes(v)) return false;
    throw fail(`invalid value for ${key}: ${value}`);
  };
  let type = "volume";
  let source = "";
  let target = "";
  let readOnly = false;
  let propagation: string | undefined;
  let noCopy = false;
  const volumeOptions: Record<string, string> = {};
  const tmpfsOptions: string[] = [];
  const used = new Set<string>();
  for (const field of raw.split(",")) {
    if (field === "") continue;
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (
      value === undefined && !["readonly", "ro", "volume-nocopy", "bind-nonrecursive"].includes(key)
    ) {
      throw fail(`invalid field '${field}' must be a key=value pair`);
    }
    if (!MOUNT_KEYS.includes(key)) throw fail(`unexpected key '${key}' in '${field}'`);
    used.add(key);
    switch (key) {
      case "type":
        type = value!.toLowerCase();
        break;
      case "source":
      case "src":
        source = value!;
        break;
      case "target":
      case "dst":
      case "destination":
        target = value!;
        break;
      case "readonly":
      case "ro":
        readOnly = boolOf(key, value);
        break;
      case "bind-propagation":
        propagation = value!.toLowerCase();
        break;
      case "volume-nocopy":
        noCopy = boolOf(key, value);
        break;
      case "volume-opt": {
        const at = value!.indexOf("=");
        if (at < 0) throw fail(`invalid value for ${key}: ${value}`);
        volumeOptions[value!.slice(0, at)] = value!.slice(at + 1);
        break;
      }
      case "tmpfs-size": {
        let bytes: number;
        try {
          bytes = parseBytes(value!);
        } catch {
          throw fail(`invalid value for ${key}: ${value}`);
        }
        tmpfsOptions.push(`size=${bytes}`);
        break;
      }
      case "tmpfs-mode":
        if (!/^[0-7]{1,4}$/.test(value!)) throw fail(`invalid value for ${key}: ${value}`);
        tmpfsOptions.push(`mode=${value!.replace(/^0+(?=.)/, "")}`);
        break;
      default:
        // volume-driver, volume-label, consistency, bind-nonrecursive: accepted, nothing to do
        break;
    }
  }
  if (target === "") throw fail("target is required");
  for (const prefix of ["bind", "volume", "tmpfs"]) {
    if (type !== prefix && [...used].some((k) => k.startsWith(`${prefix}-`))) {
      throw fail(`cannot mix '${prefix}-*' options with mount type '${type}'`);
    }
  }
  if (type !== "bind" && type !== "volume" && type !== "tmpfs") {
    throw new UsageError(`invalid mount config for type "${type}": mount type unknown`);
  }
  if (type === "tmpfs" && source !== "") {
    throw new UsageError(
      `invalid mount config for type "tmpfs": field Source must not be specified`,
    );
  }
  if (propagation !== undefined && !PROPAGATIONS.includes(propagation)) {
    throw new UsageError(`invalid propagation mode: ${propagation}`);
  }
  return {
    type,
    source,
    target,
    readOnly,
    ...(propagation !== undefined ? { propagation } : {}),
    ...(noCopy ? { noCopy } : {}),
    ...(Object.keys(volumeOptions).length > 0 ? { volumeOptions } : {}),
    ...(tmpfsOptions.length > 0 ? { tmpfsOptions } : {}),
  };
}

const PROPAGATIONS = ["shared", "slave", "private", "rshared", "rslave", "rprivate"];

/** `--env-file`: `KEY=v` lines (a bare `KEY` takes the host's value); `#` lines and blanks skipped. */
export function parseEnvFile(path: string): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    throw new UsageError(`open ${path}: no such file or directory`);
  }
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"))
    .flatMap(expandEnv);
}

/** `KEY=v` as is; a bare `KEY` takes the host's value, or is dropped when unset (Docker). */
function expandEnv(entry: string): string[] {
  if (entry.includes("=")) return [entry];
  const value = Deno.env.get(entry);
  return value === undefined ? [] : [`${entry}=${value}`];
}

function parseRestart(value: string): NonNullable<ContainerOptions["restart"]> {
  const m = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(value);
  if (m === null || (m[2] !== undefined && m[1] !== "on-failure")) {
    throw new UsageError(`invalid restart policy format: "${value}"`);
  }
  return { name: m[1] as "no", maxRetries: m[2] === undefined ? 0 : Number(m[2]) };
}

function parseUlimit(value: string): { name: string; soft: number; hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value);
  if (m === null) throw new UsageError(`invalid ulimit argument: "${value}"`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard) {
    throw new UsageError(
      `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`,
    );
  }
  return { name: m[1]!, soft, hard };
}

/**
 * A size flag (`--memory 512m`), as docker's flag parser reads it: a bad
 * value is a flag error (exit 125 for every command).
 */
export function bytesFlag(flags: FlagValues, name: string): number | undefined {
  const value = str(flags, name);
  if (value === undefined) return undefined;
  if (value === "-1" && name === "memory-swap") return -1;
  try {
    return parseBytes(value);
  } catch {
    throw new FlagError(
      `invalid argument "${value}" for "--${name}" flag: invalid size: '${value}'`,
    );
  }
}

/**
 * Turns `create`/`run` flags and `IMAGE [COMMAND] [ARG...]` into engine options.
 * @throws {UsageError} for malformed values, before anything is created
 */
export function containerOptions(flags: FlagValues, args: string[]): ContainerOptions {
  const [imageName, ...command] = args as [string, ...string[]];
  // Values Docker's CLI passes on and its daemon refuses: reported after every flag error,
  // as the engine's refusal (create exits 1, run 125).
  let refusal: EngineError | undefined;
  const refuse = (message: string) => void (refusal ??= new EngineError(message));
  // Docker's 0 means no limit, for memory and swap alike.
  const memory = bytesFlag(flags, "memory") || undefined;
  if (memory !== undefined && memory < 6 * 1024 * 1024) {
    refuse("Minimum memory limit allowed is 6MB");
  }
  const memorySwap = bytesFlag(flags, "memory-swap") || undefined;
  if (
    memorySwap !== undefined && memorySwap !== -1 && (memory === undefined || memorySwap < memory)
  ) {
    refuse("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  const cpusText = str(flags, "cpus");
  const cpus = cpusText === undefined ? undefined : Number(cpusText);
  if (cpus !== undefined && !(cpus > 0 && cpus <= navigator.hardwareConcurrency * 4)) {
    throw new UsageError(`invalid argument "${cpusText}" for "--cpus" flag`);
  }
  const labels: Record<string, string> = {};
  for (const l of [...list(flags, "label-file").flatMap(labelFile), ...list(flags, "label")]) {
    const eq = l.indexOf("=");
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
  }
  const env = [
    ...list(flags, "env-file").flatMap(parseEnvFile),
    ...list(flags, "env").flatMap(expandEnv),
  ];
  const opt = <K extends keyof ContainerOptions>(key: K, value: ContainerOptions[K] | undefined) =>
    value === undefined ? {} : { [key]: value };
  const given = (key: string, value: string | undefined) =>
    value === undefined ? {} : { [key]: value };
  const restart = parseRestart(str(flags, "restart") ?? "no");
  if (bool(flags, "rm") && restart.name !== "no") {
    throw new UsageError("conflicting options: cannot specify both --restart and --rm");
  }
  const more = moreOptions(flags, memory, refuse);
  const platform = str(flags, "platform");
  const options: ContainerOptions = {
    ...more,
    ...(platform ? { platform: parsePlatform(platform) } : {}),
    imageName,
    command,
    env,
    labels,
    restart,
    tty: bool(flags, "tty"),
    interactive: bool(flags, "interactive"),
    privileged: bool(flags, "privileged"),
    readOnly: bool(flags, "read-only"),
    autoRemove: bool(flags, "rm"),
    init: bool(flags, "init"),
    capAdd: list(flags, "cap-add"),
    capDrop: list(flags, "cap-drop"),
    securityOpt: list(flags, "security-opt"),
    ulimits: list(flags, "ulimit").map(parseUlimit),
    ...opt("name", str(flags, "name")),
    ...opt("entrypoint", str(flags, "entrypoint")),
    ...opt("user", str(flags, "user")),
    ...opt("workdir", str(flags, "workdir")),
    ...opt("hostname", str(flags, "hostname")),
    ...opt("memory", memory),
    ...opt("memorySwap", memorySwap),
    ...opt("cpus", cpus),
    ...opt("cpuShares", int(flags, "cpu-shares")),
    ...opt("pidsLimit", int(flags, "pids-limit")),
    ...opt("stopSignal", str(flags, "stop-signal")),
    ...opt("stopTimeout", int(flags, "stop-timeout")),
    binds: list(flags, "volume"),
    mounts: list(flags, "mount").map(parseMount),
    tmpfs: list(flags, "tmpfs"),
    volumesFrom: list(flags, "volumes-from"),
    network: {
      ...given("network", str(flags, "network") ?? str(flags, "net")),
      ...given("ip", str(flags, "ip")),
      aliases: list(flags, "network-alias"),
      ...given("mac", str(flags, "mac-address")),
      addHosts: list(flags, "add-host"),
      dns: list(flags, "dns"),
      dnsSearch: list(flags, "dns-search"),
    },
    ports: {
      publish: list(flags, "publish"),
      publishAll: bool(flags, "publish-all"),
      expose: list(flags, "expose"),
    },
  };
  if (refusal !== undefined) throw refusal;
  return options;
}

/** `invalid argument "V" for "--NAME" flag: WHY`, pflag's wording. */
function badFlag(name: string, value: string, why: string): UsageError {
  return new UsageError(`invalid argument "${value}" for "--${name}" flag: ${why}`);
}

/** The streams `-a` names, upper-cased; Docker's error for any other. */
export function attachStreams(flags: FlagValues): ("STDIN" | "STDOUT" | "STDERR")[] {
  return list(flags, "attach").map((s) => {
    const upper = s.toUpperCase();
    if (upper !== "STDIN" && upper !== "STDOUT" && upper !== "STDERR") {
      throw new UsageError(
        `invalid argument "${s}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`,
      );
    }
    return upper;
  });
}

/** `--pull`: `missing` unless given; Docker's error for anything else. */
export function pullPolicy(flags: FlagValues): "always" | "missing" | "never" {
  const value = str(flags, "pull") ?? "missing";
  if (value !== "always" && value !== "missing" && value !== "never") {
    throw new UsageError(
      `invalid pull option: '${value}': must be one of "always", "missing" or "never"`,
    );
  }
  return value;
}

/** Docker's namespaced sysctls (moby `opts.ValidateSysctl`). */
const SYSCTLS = [
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
];

function parseSysctls(values: string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq < 0 ? v : v.slice(0, eq);
    const ok = eq > 0 &&
      (SYSCTLS.includes(key) || key.startsWith("net.") || key.startsWith("fs.mqueue."));
    if (!ok) throw badFlag("sysctl", v, `sysctl '${v}' is not allowed`);
    out[key] = v.slice(eq + 1);
  }
  return out;
}

/** `--ipc`, `--pid`, `--uts`, `--cgroupns`: Docker's values, its error for others. */
function namespaceMode(
  flags: FlagValues,
  name: "ipc" | "pid" | "uts" | "cgroupns",
): string | undefined {
  const value = str(flags, name);
  if (value === undefined || value === "") return undefined;
  const allowed: Record<typeof name, string[]> = {
    ipc: ["private", "shareable", "host", "none"],
    pid: ["host"],
    uts: ["host"],
    cgroupns: ["host", "private"],
  };
  const joins = name === "ipc" || name === "pid";
  const ok = allowed[name].includes(value) ||
    (joins && value.startsWith("container:") && value.length > "container:".length);
  if (!ok) {
    const what = { ipc: "IPC", pid: "PID", uts: "UTS", cgroupns: "CGROUP" }[name];
    throw new UsageError(`--${name}: invalid ${what} mode`);
  }
  return value;
}

/** `--device SRC[:DST][:PERMS]`, as Docker's CLI splits it. */
function parseDevice(raw: string): { host: string; container: string; permissions: string } {
  const parts = raw.split(":");
  const validMode = (m: string) => /^[rwm]{1,3}$/.test(m) && new Set(m).size === m.length;
  let host = parts[0]!;
  let container = host;
  let permissions = "rwm";
  if (parts.length === 2) {
    if (validMode(parts[1]!)) permissions = parts[1]!;
    else container = parts[1]!;
  } else if (parts.length === 3) {
    container = parts[1]!;
    if (!validMode(parts[2]!)) throw badFlag("device", raw, `invalid device mode: ${parts[2]}`);
    permissions = parts[2]!;
  } else if (parts.length > 3 || host === "") {
    throw badFlag("device", raw, `bad format for path: ${raw}`);
  }
  if (!container.startsWith("/")) {
    throw badFlag("device", raw, `bad format for path: ${container}`);
  }
  host = host.replace(/\/+$/, "") || "/";
  return { host, container, permissions };
}

function labelFile(path: string): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    throw new UsageError(`open ${path}: no such file or directory`);
  }
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

/** A Go duration flag in nanoseconds; pflag's error for a bad one, Docker's for a negative one. */
function durationFlag(flags: FlagValues, name: string): number | undefined {
  const value = str(flags, name);
  if (value === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw badFlag(name, value, `time: invalid duration "${value}"`);
  }
  if (ms < 0) throw new UsageError(`--${name} cannot be negative`);
  return Math.round(ms * 1e6);
}

type Health = NonNullable<ContainerOptions["healthcheck"]>;

/** The health flags as Docker's Config.Healthcheck, or undefined when none is given. */
function healthcheck(flags: FlagValues): Health | undefined {
  const cmd = str(flags, "health-cmd");
  const interval = durationFlag(flags, "health-interval");
  const timeout = durationFlag(flags, "health-timeout");
  const startPeriod = durationFlag(flags, "health-start-period");
  const retries = int(flags, "health-retries");
  const any = cmd !== undefined || interval !== undefined || timeout !== undefined ||
    startPeriod !== undefined || retries !== undefined;
  if (bool(flags, "no-healthcheck")) {
    if (any) throw new UsageError("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  if (!any) return undefined;
  if (retries !== undefined && retries < 0) {
    throw new UsageError("--health-retries cannot be negative");
  }
  return {
    ...(cmd !== undefined && cmd !== "" ? { Test: ["CMD-SHELL", cmd] } : {}),
    ...(interval !== undefined ? { Interval: interval } : {}),
    ...(timeout !== undefined ? { Timeout: timeout } : {}),
    ...(startPeriod !== undefined ? { StartPeriod: startPeriod } : {}),
    ...(retries !== undefined ? { Retries: retries } : {}),
  };
}

/** `--log-driver`/`--log-opt`: json-file, local or none, with max-size and max-file. */
function logConfig(
  flags: FlagValues,
  refuse: (message: string) => void,
): ContainerOptions["log"] {
  const driver = str(flags, "log-driver");
  const opts = list(flags, "log-opt");
  if (driver === undefined && opts.length === 0) return undefined;
  const type = driver ?? "json-file";
  if (type === "none" && opts.length > 0) {
    throw new UsageError("invalid logging opts for driver none");
  }
  if (!["json-file", "local", "none", "k8s-file"].includes(type)) {
    // Docker's daemon looks for a logging plugin of that name (berth has none).
    refuse(`error looking up logging plugin ${type}: plugin "${type}" not found`);
  }
  const config: Record<string, string> = {};
  for (const o of opts) {
    // KEY=VALUE; a bare KEY has an empty value, as Docker's CLI reads it.
    const eq = o.indexOf("=");
    config[eq < 0 ? o : o.slice(0, eq)] = eq < 0 ? "" : o.slice(eq + 1);
  }
  for (const key of Object.keys(config)) {
    if (!["max-size", "max-file", "compress", "labels", "env", "tag"].includes(key)) {
      refuse(`unknown log opt '${key}' for ${type} log driver`);
    }
  }
  let maxSize: number | undefined;
  if (config["max-size"] !== undefined) {
    try {
      maxSize = parseBytes(config["max-size"]);
    } catch {
      refuse(`invalid size: '${config["max-size"]}'`);
    }
  }
  let maxFile: number | undefined;
  if (config["max-file"] !== undefined) {
    maxFile = Number(config["max-file"]);
    if (!/^-?\d+$/.test(config["max-file"])) {
      refuse(`strconv.Atoi: parsing "${config["max-file"]}": invalid syntax`);
    }
    if (maxFile < 1) refuse("max-file cannot be less than 1");
    if (maxFile > 1 && maxSize === undefined && type === "json-file") {
      refuse("max-file can only be set when max-size is set");
    }
  }
  return {
    type,
    config,
    ...(maxSize !== undefined ? { maxSize } : {}),
    ...(maxFile !== undefined ? { maxFile } : {}),
  };
}

/**
 * The flags of issue 13 that `run` and `create` turn into engine options
 * (namespaces, cgroup limits, sysctls, devices, groups, logging, health).
 * @throws {UsageError} Docker's message for a bad value
 */
function moreOptions(
  flags: FlagValues,
  memory: number | undefined,
  refuse: (message: string) => void,
): Partial<ContainerOptions> {
  const out: Partial<ContainerOptions> = {};
  const shm = bytesFlag(flags, "shm-size");
  if (shm !== undefined) {
    if (shm <= 0) throw new UsageError("SHM size can not be less than 0");
    out.shmSize = shm;
  }
  for (const name of ["ipc", "pid", "uts", "cgroupns"] as const) {
    const mode = namespaceMode(flags, name);
    if (mode !== undefined) out[name] = mode;
  }
  const parent = str(flags, "cgroup-parent");
  if (parent !== undefined && parent !== "") out.cgroupParent = parent;
  const sysctls = parseSysctls(list(flags, "sysctl"));
  if (sysctls !== undefined) out.sysctls = sysctls;
  const cpuset = str(flags, "cpuset-cpus");
  if (cpuset !== undefined && cpuset !== "") {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(cpuset)) {
      refuse(`Invalid value ${cpuset} for cpuset cpus`);
    }
    out.cpusetCpus = cpuset;
  }
  const quota = int(flags, "cpu-quota");
  const period = int(flags, "cpu-period");
  if (period !== undefined && period !== 0 && (period < 1000 || period > 1_000_000)) {
    refuse(
      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
    );
  }
  if (quota !== undefined && quota !== 0 && quota !== -1 && quota < 1000) {
    refuse("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  }
  if (((period ?? 0) > 0 || (quota ?? 0) > 0) && str(flags, "cpus") !== undefined) {
    refuse(
      `Conflicting options: Nano CPUs and ${
        period ? "CPU Period" : "CPU Quota"
      } cannot both be set`,
    );
  }
  if (quota) out.cpuQuota = quota;
  if (period) out.cpuPeriod = period;
  const reservation = bytesFlag(flags, "memory-reservation");
  if (reservation !== undefined && reservation !== 0) {
    if (reservation < 6 * 1024 * 1024) {
      refuse("Minimum memory reservation allowed is 6MB");
    }
    if (memory !== undefined && memory > 0 && memory < reservation) {
      refuse("Minimum memory limit can not be less than memory reservation limit, see usage");
    }
    out.memoryReservation = reservation;
  }
  if (bool(flags, "oom-kill-disable")) out.oomKillDisable = true;
  const oom = int(flags, "oom-score-adj");
  if (oom !== undefined) {
    if (oom < -1000 || oom > 1000) {
      refuse(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
    }
    out.oomScoreAdj = oom;
  }
  const devices = list(flags, "device").map(parseDevice);
  if (devices.length > 0) out.devices = devices;
  const groups = list(flags, "group-add");
  if (groups.length > 0) out.groupAdd = groups;
  const log = logConfig(flags, refuse);
  if (log !== undefined) out.log = log;
  const health = healthcheck(flags);
  if (health !== undefined) out.healthcheck = health;
  return out;
}
