/**
 * Capabilities: names to numbers, the bounding set (PR_CAPBSET_DROP),
 * capset(2) for the effective/permitted/inheritable sets, ambient raise.
 *
 * @module
 */
import { libc, sys, syscallError } from "./libc.ts";
import {
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_CLEAR_ALL,
  PR_CAP_AMBIENT_RAISE,
  PR_CAPBSET_DROP,
} from "./proc.ts";

/** Capability numbers (linux/capability.h) by their OCI names. */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.fromEntries(
  [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
  ].map((name, i) => [`CAP_${name}`, i]),
);

/** The highest capability the running kernel knows. */
export function lastCap(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  } catch {
    return 40;
  }
}

/**
 * Drops every capability not in `keep` from the bounding set.
 * @throws {SyscallError}
 */
export function dropBounding(keep: ReadonlySet<number>, last = lastCap()): void {
  for (let cap = 0; cap <= last; cap++) {
    if (keep.has(cap)) continue;
    if (sys("prctl", BigInt(PR_CAPBSET_DROP), BigInt(cap), 0n, 0n, 0n) !== 0) {
      throw syscallError("prctl(PR_CAPBSET_DROP)", String(cap));
    }
  }
}

const SYS_CAPSET = 126n;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** capset(2)'s two arguments, built ahead so that the call itself allocates nothing. */
export interface CapsetArgs {
  header: Uint8Array<ArrayBuffer>;
  data: Uint8Array<ArrayBuffer>;
}

/** Encodes the effective, permitted and inheritable sets for {@linkcode capsetPrepared}. */
export function capsetArgs(
  effective: ReadonlySet<number>,
  permitted: ReadonlySet<number>,
  inheritable: ReadonlySet<number>,
): CapsetArgs {
  const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
  const data = new Uint32Array(6);
  const put = (set: ReadonlySet<number>, field: number) => {
    for (const cap of set) data[(cap >> 5) * 3 + field]! |= 1 << (cap & 31);
  };
  put(effective, 0);
  put(permitted, 1);
  put(inheritable, 2);
  return { header: new Uint8Array(header.buffer), data: new Uint8Array(data.buffer) };
}

/**
 * capset(2) for the calling thread, from {@linkcode capsetArgs}.
 * @throws {SyscallError}
 */
export function capsetPrepared(args: CapsetArgs): void {
  if (libc().syscall_ptr2(SYS_CAPSET, args.header, args.data) !== 0n) throw syscallError("capset");
}

/**
 * capset(2) for the calling thread.
 * @throws {SyscallError}
 */
export function capset(
  effective: ReadonlySet<number>,
  permitted: ReadonlySet<number>,
  inheritable: ReadonlySet<number>,
): void {
  capsetPrepared(capsetArgs(effective, permitted, inheritable));
}

/**
 * Clears the ambient set, then raises each capability of `caps` in it that
 * the kernel lets in. A capability must be in both the permitted and the
 * inheritable set to be ambient; a spec that lists it as ambient only (what
 * `runc spec` writes) still runs, as runc only warns there.
 * @returns the capabilities that could not be raised
 * @throws {SyscallError} when the ambient set cannot be cleared
 */
export function setAmbient(caps: ReadonlySet<number>): number[] {
  if (sys("prctl", BigInt(PR_CAP_AMBIENT), BigInt(PR_CAP_AMBIENT_CLEAR_ALL), 0n, 0n, 0n) !== 0) {
    throw syscallError("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  }
  const refused: number[] = [];
  for (const cap of caps) {
    if (
      sys("prctl", BigInt(PR_CAP_AMBIENT), BigInt(PR_CAP_AMBIENT_RAISE), BigInt(cap), 0n, 0n) !== 0
    ) {
      refused.push(cap);
    }
  }
  return refused;
}
