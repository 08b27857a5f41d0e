/**
 * The flags `run` and `create` share, and their translation into the
 * engine's typed container options (sizes, CPUs, restart policy, ulimits).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { ContainerOptions } from "../engine/mod.ts";
import type { FlagSpec, FlagValues } from "./_args.ts";
import { bool, int, list, str } from "./_command.ts";
import { parseBytes } from "./_units.ts";

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

function parseEnvFile(path: string): string[] {
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

function bytesFlag(flags: FlagValues, name: string): number | undefined {
  const value = str(flags, name);
  if (value === undefined) return undefined;
  if (value === "-1" && name === "memory-swap") return -1;
  try {
    return parseBytes(value);
  } catch {
    throw new UsageError(
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
  // Docker's 0 means no limit, for memory and swap alike.
  const memory = bytesFlag(flags, "memory") || undefined;
  if (memory !== undefined && memory < 6 * 1024 * 1024) {
    throw new UsageError("Minimum memory limit allowed is 6MB");
  }
  const memorySwap = bytesFlag(flags, "memory-swap") || undefined;
  if (
    memorySwap !== undefined && memorySwap !== -1 && (memory === undefined || memorySwap < memory)
  ) {
    throw new UsageError("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  const cpusText = str(flags, "cpus");
  const cpus = cpusText === undefined ? undefined : Number(cpusText);
  if (cpus !== undefined && !(cpus > 0 && cpus <= navigator.hardwareConcurrency * 4)) {
    throw new UsageError(`invalid argument "${cpusText}" for "--cpus" flag`);
  }
  const labels: Record<string, string> = {};
  for (const l of list(flags, "label")) {
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
    throw new UsageError("Conflicting options: --restart and --rm");
  }
  return {
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
}
