/**
 * The last steps of a container's init before execve(2): session keyring,
 * rlimits, user and groups, capabilities, no_new_privs, seccomp, working
 * directory and the exec.
 *
 * Two phases. {@linkcode prepareProcess} runs before init reports ready (so
 * its errors reach `create`): it checks and encodes everything the last
 * calls need, then switches user and capabilities. {@linkcode execPrepared}
 * runs after `start`, and only makes calls on buffers built before:
 *
 * - rlimits come last but one, since one such as RLIMIT_AS below what Deno
 *   has mapped makes every later allocation fail (V8 aborts: "Fatal
 *   JavaScript out of memory"); nothing is allocated after them, and the
 *   few calls that follow take the memory the runtime needs for them from
 *   heap reserved just before (an FFI call's own bookkeeping).
 * - the seccomp filter comes after them, so that a strict profile sees
 *   nothing of init but what follows: execve, and capset only when needed.
 *   Installing a filter without no_new_privs needs CAP_SYS_ADMIN in the
 *   effective set: when the process's own sets lack it, prepareProcess
 *   keeps it in the effective and permitted sets, and the one capset after
 *   the filter drops it (runc, too, needs capset to pass its filter then).
 *
 * @module
 */
import {
  CAPABILITIES,
  type CapsetArgs,
  capsetArgs,
  capsetPrepared,
  dropBounding,
  setAmbient,
} from "../../ffi/caps.ts";
import {
  allowOwnerSearch,
  chdir,
  CLOSE_RANGE_CLOEXEC,
  closeRange,
  type ExecveArgs,
  execveArgs,
  execvePrepared,
  joinSessionKeyring,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
  prctl,
  reserveHeap,
  resetSignals,
  type RlimitArgs,
  rlimitArgs,
  RLIMITS,
  setIds,
  setrlimitPrepared,
  umask,
} from "../../ffi/proc.ts";
import {
  encodeSeccomp,
  installSeccompProgram,
  type SeccompProgram,
  type SockFilter,
} from "../../ffi/seccomp.ts";
import { InvalidError } from "../errors.ts";
import { execError } from "./look_path.ts";
import type { Process } from "./spec.ts";

const CAP_SYS_ADMIN = CAPABILITIES.CAP_SYS_ADMIN!;

const capSet = (names: readonly string[] | undefined, field: string): Set<number> => {
  const out = new Set<number>();
  for (const name of names ?? []) {
    const n = CAPABILITIES[name.startsWith("CAP_") ? name : `CAP_${name}`];
    if (n === undefined) {
      throw new InvalidError(`Invalid config.json: "${field}" has unknown capability "${name}"`);
    }
    out.add(n);
  }
  return out;
};

/** Limits that can leave the runtime's own allocations without memory (see execPrepared). */
const MEMORY_LIMITS = new Set(["RLIMIT_AS", "RLIMIT_DATA"]);
/** Free heap kept for the calls that run under such a limit. */
const HEAP_RESERVE = 8 * 1024 * 1024;

const toLimit = (v: number): bigint => (v < 0 ? 0xffffffffffffffffn : BigInt(v));

/**
 * The session keyring name of container `id` (runc's): init creates it,
 * `exec` joins it by this name.
 */
export const sessionKeyringName = (id: string): string => `_ses.${id}`;

/**
 * Leaves the caller's session keyring (a host's keys live there) for the
 * container's own, as runc does; the kernel's keys are shared by every
 * process of a uid otherwise. Without `name`, an anonymous new one.
 * @param create give the new keyring's owner search permission, for `exec`
 */
export function joinContainerKeyring(name: string | undefined, create: boolean): void {
  const id = joinSessionKeyring(name);
  if (id !== undefined && create) allowOwnerSearch(id);
}

/** What {@linkcode execPrepared} needs: only encoded arguments. */
export interface PreparedProcess {
  /** args[0], for error messages. */
  command: string;
  /** The resolved path. */
  path: string;
  rlimits: RlimitArgs[];
  filter?: SeccompProgram;
  /** The process's capability sets, when the filter needed CAP_SYS_ADMIN until it was in. */
  finalCaps?: CapsetArgs;
  exec: ExecveArgs;
}

/** The capability sets to end with; undefined: keep init's (root's) own. */
function targetCaps(p: Process) {
  const caps = p.capabilities;
  if (caps === undefined) {
    // Without capabilities root keeps what it has; another user ends with none, as setuid(2) would.
    if (p.user.uid === 0) return undefined;
    return { effective: new Set<number>(), permitted: new Set<number>(), bounding: undefined };
  }
  return {
    bounding: caps.bounding === undefined
      ? undefined
      : capSet(caps.bounding, "process.capabilities.bounding"),
    effective: capSet(caps.effective, "process.capabilities.effective"),
    permitted: capSet(caps.permitted, "process.capabilities.permitted"),
    // Empty unless asked for: a file's inheritable capabilities must not be granted (CVE-2022-24769).
    inheritable: capSet(caps.inheritable, "process.capabilities.inheritable"),
    ambient: capSet(caps.ambient, "process.capabilities.ambient"),
  };
}

/**
 * Checks and encodes what the process needs, marks fds 3 and up
 * close-on-exec, resets signals, switches to the spec's user and
 * capabilities and sets no_new_privs: all that can fail for a reason in the
 * spec, before `start`. The seccomp filter and rlimits wait for
 * {@linkcode execPrepared}.
 * @param path the resolved executable
 * @param program the compiled seccomp filter (see {@linkcode seccompFilter}), if any
 * @throws {InvalidError} for an unknown capability or rlimit
 * @throws {SyscallError}
 */
export function prepareProcess(
  path: string,
  p: Process,
  program: readonly SockFilter[] | undefined,
): PreparedProcess {
  const caps = targetCaps(p);
  const rlimits = (p.rlimits ?? []).map((r) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) {
      throw new InvalidError(`Invalid config.json: unknown rlimit "${r.type}"`);
    }
    return rlimitArgs(resource, toLimit(r.soft), toLimit(r.hard), r.type);
  });
  // Limits on the address space go last, so as few calls as possible run under them.
  rlimits.sort((a, b) => Number(MEMORY_LIMITS.has(a.name)) - Number(MEMORY_LIMITS.has(b.name)));
  const filter = program === undefined ? undefined : encodeSeccomp(program);
  const exec = execveArgs(path, p.args, p.env ?? []);
  if (p.oomScoreAdj !== undefined) {
    Deno.writeTextFileSync("/proc/self/oom_score_adj", String(p.oomScoreAdj));
  }
  closeRange(3, CLOSE_RANGE_CLOEXEC);
  resetSignals();
  let finalCaps: CapsetArgs | undefined;
  if (caps === undefined) {
    setIds(p.user.uid, p.user.gid, p.user.additionalGids ?? []);
  } else {
    if (caps.bounding !== undefined) dropBounding(caps.bounding);
    prctl(PR_SET_KEEPCAPS, 1);
    setIds(p.user.uid, p.user.gid, p.user.additionalGids ?? []);
    prctl(PR_SET_KEEPCAPS, 0);
    const inheritable = caps.inheritable ?? new Set<number>();
    const final = capsetArgs(caps.effective, caps.permitted, inheritable);
    if (filter !== undefined && !p.noNewPrivileges && !caps.effective.has(CAP_SYS_ADMIN)) {
      const withAdmin = (set: Set<number>) => new Set([...set, CAP_SYS_ADMIN]);
      capsetPrepared(
        capsetArgs(withAdmin(caps.effective), withAdmin(caps.permitted), inheritable),
      );
      finalCaps = final;
    } else {
      capsetPrepared(final);
    }
    setAmbient(caps.ambient ?? new Set<number>());
  }
  if (p.noNewPrivileges) prctl(PR_SET_NO_NEW_PRIVS, 1);
  return {
    command: p.args[0]!,
    path,
    rlimits,
    ...(filter === undefined ? {} : { filter }),
    ...(finalCaps === undefined ? {} : { finalCaps }),
    exec,
  };
}

/**
 * Applies the rlimits, installs the seccomp filter, drops CAP_SYS_ADMIN if
 * it was kept for that, and execs: calls only, on buffers made by
 * {@linkcode prepareProcess} (see the module's note on the order).
 * @throws {SyscallError} when a limit or the filter cannot be applied
 * @throws {ExecError} when execve(2) fails (exit 127 or 126)
 */
export function execPrepared(prepared: PreparedProcess): never {
  const rlimits = prepared.rlimits;
  if (rlimits.some((r) => MEMORY_LIMITS.has(r.name))) reserveHeap(HEAP_RESERVE);
  for (let i = 0; i < rlimits.length; i++) setrlimitPrepared(rlimits[i]!);
  if (prepared.filter !== undefined) installSeccompProgram(prepared.filter);
  if (prepared.finalCaps !== undefined) capsetPrepared(prepared.finalCaps);
  const code = execvePrepared(prepared.exec);
  throw execError(prepared.command, code, prepared.path);
}

/** Sets the umask and the working directory. */
export function enterCwd(p: Process): void {
  umask(p.user.umask ?? 0o022);
  chdir(p.cwd);
}
