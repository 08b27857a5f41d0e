/**
 * Process calls a container's init needs: prctl, hostname, rlimits, user
 * and group ids, fds and pipes, close_range, signals, the session keyring
 * (keyctl) and execve.
 *
 * @module
 */
import { addressOf, cstr, errno, libc, sys, syscallError } from "./libc.ts";

export const PR_SET_PDEATHSIG = 1;
export const PR_SET_KEEPCAPS = 8;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_CAP_AMBIENT = 47;
export const PR_CAP_AMBIENT_RAISE = 2;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

/** RLIMIT_* numbers by their OCI names. */
export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/**
 * prctl(2).
 * @throws {SyscallError}
 */
export function prctl(option: number, arg2 = 0, arg3 = 0): void {
  if (sys("prctl", BigInt(option), BigInt(arg2), BigInt(arg3), 0n, 0n) !== 0) {
    throw syscallError(`prctl(${option})`);
  }
}

/** prctl(2) returning the raw result (-1 on failure). */
export function prctlRaw(option: number, arg2 = 0, arg3 = 0): number {
  return sys("prctl", BigInt(option), BigInt(arg2), BigInt(arg3), 0n, 0n);
}

/**
 * sethostname(2).
 * @throws {SyscallError}
 */
export function sethostname(name: string): void {
  const buf = new TextEncoder().encode(name);
  if (sys("sethostname", addressOf(buf), BigInt(buf.length)) !== 0) {
    throw syscallError("sethostname", name);
  }
}

/**
 * setdomainname(2).
 * @throws {SyscallError}
 */
export function setdomainname(name: string): void {
  const buf = new TextEncoder().encode(name);
  if (sys("setdomainname", addressOf(buf), BigInt(buf.length)) !== 0) {
    throw syscallError("setdomainname", name);
  }
}

/** setrlimit(2)'s arguments, built ahead so that the call itself allocates nothing. */
export interface RlimitArgs {
  resource: number;
  /** struct rlimit: soft, then hard. */
  limits: Uint8Array<ArrayBuffer>;
  /** The limit's name, for the error. */
  name: string;
}

/** Encodes one limit for {@linkcode setrlimitPrepared}. */
export function rlimitArgs(
  resource: number,
  soft: bigint,
  hard: bigint,
  name?: string,
): RlimitArgs {
  const limits = new Uint8Array(new BigUint64Array([soft, hard]).buffer);
  return { resource, limits, name: name ?? String(resource) };
}

/**
 * setrlimit(2) from {@linkcode rlimitArgs}; allocates nothing unless it fails.
 * @throws {SyscallError}
 */
export function setrlimitPrepared(args: RlimitArgs): void {
  if (libc().setrlimit(args.resource, args.limits) !== 0) {
    throw syscallError("setrlimit", args.name);
  }
}

/** mallopt(3) parameters of glibc. */
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;

/**
 * Leaves `bytes` of free memory at the top of the calling thread's malloc
 * arena, for a process about to set a limit on its address space
 * (RLIMIT_AS, RLIMIT_DATA) below what it has mapped: the runtime's own small
 * allocations after that (an FFI call's arguments) then come from memory
 * already mapped instead of brk/mmap, which the limit refuses (Rust aborts
 * with "memory allocation of N bytes failed"). The chunk comes from brk
 * (mmap threshold raised above it) and stays there (trim threshold too).
 * @param bytes at most 16 MiB (glibc caps the mmap threshold at 32 MiB)
 */
export function reserveHeap(bytes: number): void {
  const c = libc();
  c.mallopt(M_MMAP_THRESHOLD, bytes * 2);
  c.mallopt(M_TRIM_THRESHOLD, bytes * 4);
  const p = c.malloc(BigInt(bytes));
  if (p !== null) c.free(p);
}

/**
 * setrlimit(2).
 * @throws {SyscallError}
 */
export function setrlimit(resource: number, soft: bigint, hard: bigint): void {
  setrlimitPrepared(rlimitArgs(resource, soft, hard));
}

const SYS_SETGROUPS = 116n;
const SYS_SETRESUID = 117n;
const SYS_SETRESGID = 119n;

/**
 * setgroups(2), setresgid(2) and setresuid(2), in that order, for the calling
 * thread only: raw syscalls, as glibc's wrappers signal every other thread
 * (Deno has ~6) to change it too (~1 ms). For a process about to execve(2)
 * from this thread: execve takes this thread's credentials and ends the others.
 * @throws {SyscallError}
 */
export function setIds(uid: number, gid: number, groups: readonly number[]): void {
  const list = new Uint32Array(groups.length === 0 ? 1 : groups.length);
  list.set(groups);
  const ptr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(list)));
  if (libc().syscall_i64(SYS_SETGROUPS, BigInt(groups.length), ptr, 0n, 0n, 0n) !== 0n) {
    throw syscallError("setgroups");
  }
  const g = BigInt(gid);
  if (libc().syscall_i64(SYS_SETRESGID, g, g, g, 0n, 0n) !== 0n) {
    throw syscallError("setresgid", String(gid));
  }
  const u = BigInt(uid);
  if (libc().syscall_i64(SYS_SETRESUID, u, u, u, 0n, 0n) !== 0n) {
    throw syscallError("setresuid", String(uid));
  }
}

/**
 * chdir(2).
 * @throws {SyscallError}
 */
export function chdir(path: string): void {
  if (sys("chdir", addressOf(cstr(path))) !== 0) throw syscallError("chdir", path);
}

/**
 * setsid(2).
 * @throws {SyscallError}
 */
export function setsid(): void {
  if (libc().setsid() < 0) throw syscallError("setsid");
}

/** umask(2); returns the old mask. */
export function umask(mask: number): number {
  return sys("umask", BigInt(mask));
}

/**
 * kill(2).
 * @throws {SyscallError}
 */
export function kill(pid: number, signal: number): void {
  if (libc().kill(pid, signal) !== 0) throw syscallError("kill", String(pid));
}

const SYS_CLOSE_RANGE = 436n;
/** close_range(2) flag: mark close-on-exec instead of closing. */
export const CLOSE_RANGE_CLOEXEC = 4;

/**
 * close_range(2) from `first` to the last fd.
 * @throws {SyscallError}
 */
export function closeRange(first: number, flags = 0): void {
  if (
    libc().syscall_i64(SYS_CLOSE_RANGE, BigInt(first), 0xffffffffn, BigInt(flags), 0n, 0n) !== 0n
  ) {
    throw syscallError("close_range");
  }
}

const SYS_RT_SIGACTION = 13n;

/**
 * Resets what Deno changed that execve(2) would pass on: ignored signals
 * (SIGPIPE, and glibc's real-time ones, which signal(3) refuses) and the
 * blocked signal mask. Uses rt_sigaction(2) with a zeroed (SIG_DFL) action.
 */
export function resetSignals(): void {
  const act = new Uint8Array(32);
  const ptr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(act)));
  for (let sig = 1n; sig <= 64n; sig++) {
    if (sig !== 9n && sig !== 19n) libc().syscall_i64(SYS_RT_SIGACTION, sig, ptr, 0n, 8n, 0n);
  }
  const SIG_SETMASK = 2;
  // The kernel's sigset is 8 bytes (glibc's 128-byte one is for its own use).
  sys("rt_sigprocmask", BigInt(SIG_SETMASK), addressOf(new Uint8Array(8)), 0n, 8n);
}

const ptrArray = (
  items: readonly string[],
): { array: Uint8Array<ArrayBuffer>; keep: Uint8Array[] } => {
  const keep = items.map((s) => cstr(s));
  const array = new BigUint64Array(keep.length + 1);
  keep.forEach((b, i) => array[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b))));
  return { array: new Uint8Array(array.buffer), keep };
};

/** execve(2)'s arguments as C strings and pointer arrays, built ahead of the call. */
export interface ExecveArgs {
  path: Uint8Array<ArrayBuffer>;
  argv: Uint8Array<ArrayBuffer>;
  envp: Uint8Array<ArrayBuffer>;
  /** The strings the arrays point into, kept alive with them. */
  keep: Uint8Array[];
}

/** Encodes an execve(2) call for {@linkcode execvePrepared}. */
export function execveArgs(
  path: string,
  argv: readonly string[],
  env: readonly string[],
): ExecveArgs {
  const a = ptrArray(argv);
  const e = ptrArray(env);
  return { path: cstr(path), argv: a.array, envp: e.array, keep: [...a.keep, ...e.keep] };
}

/**
 * execve(2) from {@linkcode execveArgs}: allocates nothing before the call.
 * Returns only on failure.
 * @returns errno of the failed call
 */
export function execvePrepared(args: ExecveArgs): number {
  libc().execve(args.path, args.argv, args.envp);
  return errno();
}

/**
 * execve(2). Returns only on failure.
 * @returns errno of the failed call
 */
export function execve(path: string, argv: readonly string[], env: readonly string[]): number {
  return execvePrepared(execveArgs(path, argv, env));
}

const SYS_PIDFD_OPEN = 434n;
const SYS_PIDFD_GETFD = 438n;

/**
 * Duplicates file descriptor `fd` of process `pid` into this process
 * (pidfd_open(2) + pidfd_getfd(2)); the copy is close-on-exec.
 * @throws {SyscallError}
 */
export function takeFd(pid: number, fd: number): number {
  const pidfd = Number(libc().syscall_i64(SYS_PIDFD_OPEN, BigInt(pid), 0n, 0n, 0n, 0n));
  if (pidfd < 0) throw syscallError("pidfd_open", String(pid));
  const copy = Number(libc().syscall_i64(SYS_PIDFD_GETFD, BigInt(pidfd), BigInt(fd), 0n, 0n, 0n));
  const error = copy < 0 ? syscallError("pidfd_getfd", String(pid)) : undefined;
  libc().close(pidfd);
  if (error !== undefined) throw error;
  return copy;
}

const SYS_KEYCTL = 250n;
const KEYCTL_JOIN_SESSION_KEYRING = 1n;
const KEYCTL_SETPERM = 5n;
const KEYCTL_DESCRIBE = 6n;
const ENOSYS = 38;
/** KEY_USR_SEARCH: the key's owner (a uid, not only its possessor) may search it. */
const KEY_USR_SEARCH = 0x00080000;

const addr = (buf: Uint8Array): bigint =>
  BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));

/**
 * keyctl(KEYCTL_JOIN_SESSION_KEYRING): makes the keyring named `name` the
 * calling thread's session keyring, creating it when no keyring of that
 * name is searchable (so an `exec` that names the container's joins it); an
 * anonymous new one without a name.
 * @returns the keyring's serial, or undefined when the kernel has no keyrings (ENOSYS)
 * @throws {SyscallError}
 */
export function joinSessionKeyring(name?: string): number | undefined {
  const buf = name === undefined ? undefined : cstr(name);
  const ptr = buf === undefined ? 0n : addr(buf);
  const id = libc().syscall_i64(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, ptr, 0n, 0n, 0n);
  if (id < 0n) {
    if (errno() === ENOSYS) return undefined;
    throw syscallError("keyctl(KEYCTL_JOIN_SESSION_KEYRING)", name);
  }
  return Number(id);
}

/**
 * Adds search permission for the keyring's owner to keyring `id`: its
 * processes search it as possessors anyway; an `exec` that joins it by name
 * is found by uid (as runc's sessions are).
 * @throws {SyscallError}
 */
export function allowOwnerSearch(id: number): void {
  const buf = new Uint8Array(256);
  const n = libc().syscall_i64(
    SYS_KEYCTL,
    KEYCTL_DESCRIBE,
    BigInt(id),
    addr(buf),
    BigInt(buf.length),
    0n,
  );
  if (n < 0n) throw syscallError("keyctl(KEYCTL_DESCRIBE)", String(id));
  // "type;uid;gid;perm;description", perm in hex.
  const text = new TextDecoder().decode(buf.subarray(0, Math.min(Number(n), buf.length)));
  const perm = Number.parseInt(text.split(";")[3] ?? "", 16);
  if (!Number.isInteger(perm)) throw new TypeError(`Unexpected keyring description "${text}"`);
  const next = (perm | KEY_USR_SEARCH) >>> 0;
  if (libc().syscall_i64(SYS_KEYCTL, KEYCTL_SETPERM, BigInt(id), BigInt(next), 0n, 0n) !== 0n) {
    throw syscallError("keyctl(KEYCTL_SETPERM)", String(id));
  }
}
