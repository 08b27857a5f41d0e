/**
 * Docker's default OCI spec for a container: its 14 capabilities, masked
 * and read-only paths, default mounts and namespaces.
 *
 * @module
 */
import type { DeviceRule, Mount, Resources, Spec } from "./spec.ts";

/** Docker's default capabilities (moby `oci/caps/defaults.go`). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Docker's masked paths. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

/** Docker's read-only paths. */
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/**
 * Docker's device rules: nothing but mknod, then the usual character devices
 * (null, zero, full, random, urandom, tty, console, ptmx, pts/*, net/tun).
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: false, access: "rwm" },
  { allow: true, type: "c", access: "m" },
  { allow: true, type: "b", access: "m" },
  ...([[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [136, -1], [
    10,
    200,
  ]] as const)
    .map(([major, minor]): DeviceRule => ({ allow: true, type: "c", major, minor, access: "rwm" })),
];

/** Docker's default PATH when the image sets none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const defaultMounts = (): Mount[] => [
  { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
  {
    destination: "/dev",
    type: "tmpfs",
    source: "tmpfs",
    options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
  },
  {
    destination: "/dev/pts",
    type: "devpts",
    source: "devpts",
    options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
  },
  {
    destination: "/sys",
    type: "sysfs",
    source: "sysfs",
    options: ["nosuid", "noexec", "nodev", "ro"],
  },
  {
    destination: "/sys/fs/cgroup",
    type: "cgroup",
    source: "cgroup",
    options: ["ro", "nosuid", "noexec", "nodev"],
  },
  {
    destination: "/dev/mqueue",
    type: "mqueue",
    source: "mqueue",
    options: ["nosuid", "noexec", "nodev"],
  },
  {
    destination: "/dev/shm",
    type: "tmpfs",
    source: "shm",
    options: ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"],
  },
];

/** Options for {@linkcode defaultSpec}. */
export interface DefaultSpecOptions {
  /** The command and its arguments. */
  args: string[];
  /** `KEY=value` pairs; PATH (and HOSTNAME, TERM) are added as Docker does. @default [] */
  env?: string[];
  /** @default "/" */
  cwd?: string;
  /** @default "" (none set) */
  hostname?: string;
  /** @default {uid: 0, gid: 0} */
  user?: { uid: number; gid: number; additionalGids?: number[] };
  /** Allocate a pty. @default false */
  terminal?: boolean;
  /** The rootfs, relative to the bundle or absolute. @default "rootfs" */
  rootPath?: string;
  /** @default false */
  readonlyRootfs?: boolean;
  /**
   * The capabilities (bounding, effective, permitted; inheritable and ambient
   * stay empty, as Docker's since CVE-2022-24769). @default DEFAULT_CAPABILITIES
   */
  capabilities?: readonly string[];
  /** @default false */
  noNewPrivileges?: boolean;
  /** cgroup limits. */
  resources?: Resources;
  /** Extra mounts after Docker's defaults. */
  mounts?: Mount[];
  annotations?: Record<string, string>;
}

/**
 * Builds a runtime-spec config with Docker's defaults.
 * @returns a new spec object, safe to modify
 */
export function defaultSpec(options: DefaultSpecOptions): Spec {
  const env = [...(options.env ?? [])];
  const has = (key: string) => env.some((e) => e.startsWith(`${key}=`));
  if (!has("PATH")) env.unshift(`PATH=${DEFAULT_PATH}`);
  if (options.hostname && !has("HOSTNAME")) env.splice(1, 0, `HOSTNAME=${options.hostname}`);
  if (options.terminal && !has("TERM")) env.push("TERM=xterm");
  const caps = [...(options.capabilities ?? DEFAULT_CAPABILITIES)];
  const user = options.user ?? { uid: 0, gid: 0 };
  const spec: Spec = {
    ociVersion: "1.0.2",
    process: {
      terminal: options.terminal ?? false,
      user: { ...user },
      args: [...options.args],
      env,
      cwd: options.cwd ?? "/",
      capabilities: {
        bounding: [...caps],
        effective: [...caps],
        permitted: [...caps],
      },
      noNewPrivileges: options.noNewPrivileges ?? false,
    },
    root: { path: options.rootPath ?? "rootfs", readonly: options.readonlyRootfs ?? false },
    mounts: [...defaultMounts(), ...(options.mounts ?? [])],
    linux: {
      namespaces: ["pid", "network", "ipc", "uts", "mount", "cgroup"].map((type) => ({ type })),
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
      resources: {
        devices: structuredClone([...DEFAULT_DEVICE_RULES]),
        ...structuredClone(options.resources ?? {}),
      },
    },
  };
  if (options.hostname) spec.hostname = options.hostname;
  if (options.annotations) spec.annotations = { ...options.annotations };
  return spec;
}
