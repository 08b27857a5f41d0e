/**
 * init in `exec` mode: already in the container's PID/NET/UTS/IPC
 * namespaces and cgroup (the launcher saw to that), it joins the cgroup and
 * mount namespaces (setns on the mount namespace sets root and cwd to the
 * container's root) and the container's session keyring, switches user and
 * capabilities, and execs.
 *
 * @module
 */
import { O_CLOEXEC, O_RDONLY, openFd, readSync } from "../../ffi/fd.ts";
import { CLONE_FS, CLONE_NEWCGROUP, CLONE_NEWNS, setns, unshare } from "../../ffi/ns.ts";
import { chroot } from "../../ffi/mount.ts";
import { chdir, PR_SET_PDEATHSIG, prctl } from "../../ffi/proc.ts";
import { describeError, EngineError, EXIT_ENGINE } from "../errors.ts";
import { openConsole, report } from "./_init_io.ts";
import { lookPath } from "./look_path.ts";
import {
  enterCwd,
  execPrepared,
  joinContainerKeyring,
  prepareProcess,
  sessionKeyringName,
} from "./process_setup.ts";
import type { Process, Seccomp } from "./spec.ts";

/** The exec part of init's config. */
export interface ExecInit {
  /** The container's pid as the host sees it. */
  pid: number;
  /** The container's id: its session keyring is joined by name. */
  id?: string;
  /** Join its cgroup namespace too. */
  cgroupns: boolean;
  process: Process;
  /** The container's seccomp profile, applied to the new process too. */
  seccomp?: Seccomp;
}

/** The status pipe and go pipe fds and options shared with create mode. */
interface Pipes {
  status: number;
  go: number;
  pdeathsig: boolean;
  console?: boolean;
}

/**
 * Runs exec-mode init; returns only on failure, with the exit status.
 */
export function runExecInit(cfg: Pipes, exec: ExecInit): number {
  const p = exec.process;
  try {
    if (cfg.pdeathsig) prctl(PR_SET_PDEATHSIG, 9);
    const mnt = openFd(`/proc/${exec.pid}/ns/mnt`, O_RDONLY | O_CLOEXEC);
    const sameMnt = Deno.readLinkSync(`/proc/${exec.pid}/ns/mnt`) ===
      Deno.readLinkSync("/proc/self/ns/mnt");
    const root = sameMnt ? `/proc/${exec.pid}/root` : undefined;
    const cgroup = exec.cgroupns
      ? openFd(`/proc/${exec.pid}/ns/cgroup`, O_RDONLY | O_CLOEXEC)
      : undefined;
    if (readSync(cfg.go, new Uint8Array(1)) !== 1) return EXIT_ENGINE;
    if (cgroup !== undefined) setns(cgroup, CLONE_NEWCGROUP, "cgroup");
    // setns into a mount namespace needs an fs_struct of our own (threads share one).
    unshare(CLONE_FS);
    setns(mnt, CLONE_NEWNS, "mnt");
    // A container in the host's mount namespace has a chroot for root, which setns left.
    if (root !== undefined) {
      chroot(root);
      chdir("/");
    }
    if (cfg.console) {
      // A pty of the container's devpts; the launcher copies the master, then says go again.
      report(cfg.status, { console: openConsole("/").master });
      if (readSync(cfg.go, new Uint8Array(1)) !== 1) return EXIT_ENGINE;
    }
    // The container's keyring, as runc's exec joins it; never the caller's.
    joinContainerKeyring(exec.id === undefined ? undefined : sessionKeyringName(exec.id), false);
    enterCwd(p);
    const path = lookPath(p.args[0]!, p.env ?? [], p.cwd);
    const prepared = prepareProcess(path, p, exec.seccomp);
    // A change of user clears the parent-death signal.
    if (cfg.pdeathsig) prctl(PR_SET_PDEATHSIG, 9);
    execPrepared(prepared);
  } catch (error) {
    const code = error instanceof EngineError ? error.exitCode : EXIT_ENGINE;
    report(cfg.status, { error: describeError(error), code });
    return code;
  }
}
