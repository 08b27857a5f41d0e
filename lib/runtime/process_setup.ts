/**
 * The last steps of a container's init before execve: rlimits, user and
 * groups, capabilities, no_new_privs, working directory and the exec.
 *
 * @module
 */
import { CAPABILITIES, capset, dropBounding, setAmbient } from "../../ffi/caps.ts";
import {
  chdir,
  CLOSE_RANGE_CLOEXEC,
  closeRange,
  execve,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
  prctl,
  resetSignals,
  RLIMITS,
  setIds,
  setrlimit,
  umask,
} from "../../ffi/proc.ts";
import { InvalidError } from "../errors.ts";
import { execError } from "./look_path.ts";
import type { Process, Seccomp } from "./spec.ts";
import { installSeccomp } from "../../ffi/seccomp.ts";
import { compileSeccomp } from "./seccomp.ts";

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

const toLimit = (v: number): bigint => (v < 0 ? 0xffffffffffffffffn : BigInt(v));

/** setrlimit(2) for each `process.rlimits` entry, and `oomScoreAdj`. */
export function applyRlimits(p: Process): void {
  if (p.oomScoreAdj !== undefined) {
    Deno.writeTextFileSync("/proc/self/oom_score_adj", String(p.oomScoreAdj));
  }
  for (const r of p.rlimits ?? []) {
    const resource = RLIMITS[r.type];
    if (resource === undefined) {
      throw new InvalidError(`Invalid config.json: unknown rlimit "${r.type}"`);
    }
    setrlimit(resource, toLimit(r.soft), toLimit(r.hard));
  }
}

/**
 * Drops the bounding set, switches to the spec's user keeping the
 * capabilities across setuid, then sets the effective, permitted,
 * inheritable and ambient sets and no_new_privs.
 */
export function applyUserAndCaps(p: Process): void {
  const caps = p.capabilities;
  if (caps?.bounding !== undefined) {
    dropBounding(capSet(caps.bounding, "process.capabilities.bounding"));
  }
  prctl(PR_SET_KEEPCAPS, 1);
  setIds(p.user.uid, p.user.gid, p.user.additionalGids ?? []);
  prctl(PR_SET_KEEPCAPS, 0);
  if (caps !== undefined) {
    capset(
      capSet(caps.effective, "process.capabilities.effective"),
      capSet(caps.permitted, "process.capabilities.permitted"),
      capSet(caps.inheritable, "process.capabilities.inheritable"),
    );
    if (caps.ambient !== undefined) {
      setAmbient(capSet(caps.ambient, "process.capabilities.ambient"));
    }
  }
  if (p.noNewPrivileges) prctl(PR_SET_NO_NEW_PRIVS, 1);
}

/**
 * Installs the seccomp filter, while init still has CAP_SYS_ADMIN (needed
 * without no_new_privs); what init does afterwards must pass the filter.
 */
export function applySeccomp(profile: Seccomp | undefined): void {
  if (profile === undefined) return;
  if (Deno.build.arch !== "x86_64") {
    throw new InvalidError(`Invalid config.json: "linux.seccomp" is supported on x86_64 only`);
  }
  installSeccomp(compileSeccomp(profile));
}

/** Sets the umask and the working directory. */
export function enterCwd(p: Process): void {
  umask(p.user.umask ?? 0o022);
  chdir(p.cwd);
}

/**
 * Marks every fd from 3 close-on-exec, resets signals and execs.
 * @throws {ExecError} when execve(2) fails (exit 127 or 126)
 */
export function execProcess(path: string, p: Process): never {
  closeRange(3, CLOSE_RANGE_CLOEXEC);
  resetSignals();
  const code = execve(path, p.args, p.env ?? []);
  throw execError(p.args[0]!, code, path);
}
