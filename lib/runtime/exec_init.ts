/**
 * init in `exec` mode: already in the container's PID/NET/UTS/IPC
 * namespaces (the launcher spawned it there), it opens the container's
 * mount (and cgroup) namespace and joins its session keyring while it
 * waits; then, given the process on its go pipe once the launcher has put
 * it in the container's cgroup, it joins those namespaces (setns on the
 * mount namespace sets root and cwd to the container's root), switches user
 * and capabilities, and execs.
 *
 * Loads only ffi/ and what the exec needs (see exec_main.ts), to start fast.
 *
 * @module
 */
import {
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  O_RDONLY,
  openFd,
  readSync,
  setCloexec,
} from "../../ffi/fd.ts";
import { CLONE_FS, CLONE_NEWCGROUP, CLONE_NEWNS, setns, unshare } from "../../ffi/ns.ts";
import { chroot } from "../../ffi/mount.ts";
import { chdir, PR_SET_PDEATHSIG, prctl } from "../../ffi/proc.ts";
import { unflattenFilter } from "../../ffi/seccomp.ts";
import { ConflictError, describeError, EngineError, EXIT_ENGINE } from "../errors.ts";
import { openConsole, report } from "./_init_io.ts";
import { type ExecInit, type ExecLate, readLateConfig } from "./init_config.ts";
import { lookPath } from "./look_path.ts";
import {
  enterCwd,
  execPrepared,
  joinContainerKeyring,
  prepareProcess,
  sessionKeyringName,
} from "./process_setup.ts";
import { procStat } from "./state.ts";

export type { ExecInit } from "./init_config.ts";

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
  setCloexec(cfg.status);
  setCloexec(cfg.go);
  try {
    // Set before reading go: a launcher that died earlier shows as EOF there.
    if (cfg.pdeathsig) prctl(PR_SET_PDEATHSIG, 9);
    const ns = `/proc/${exec.pid}/ns`;
    const mnt = openFd(`${ns}/mnt`, O_RDONLY | O_CLOEXEC);
    const cgroup = exec.cgroupns ? openFd(`${ns}/cgroup`, O_RDONLY | O_CLOEXEC) : undefined;
    // A container in the host's mount namespace has a chroot for root, which setns leaves.
    const root = Deno.readLinkSync(`${ns}/mnt`) === Deno.readLinkSync("/proc/self/ns/mnt")
      ? openFd(`/proc/${exec.pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC)
      : undefined;
    // Opened through /proc/PID: they are the container's only while PID is still its process.
    const stat = procStat(exec.pid);
    if (stat === undefined || stat.startTime !== exec.startTime || stat.state === "Z") {
      throw new ConflictError("Cannot exec in the container: container is stopped");
    }
    // The container's keyring, as runc's exec joins it; never the caller's.
    joinContainerKeyring(exec.id === undefined ? undefined : sessionKeyringName(exec.id), false);
    // EOF: the launcher gave up.
    const late = readLateConfig<ExecLate>(cfg.go);
    if (late === undefined) return EXIT_ENGINE;
    const p = late.process;
    if (cgroup !== undefined) setns(cgroup, CLONE_NEWCGROUP, "cgroup");
    // setns into a mount namespace needs an fs_struct of our own (threads share one).
    unshare(CLONE_FS);
    setns(mnt, CLONE_NEWNS, "mnt");
    if (root !== undefined) {
      chroot(`/proc/self/fd/${root}`);
      chdir("/");
    }
    if (cfg.console) {
      // A pty of the container's devpts; the launcher copies the master, then says go again.
      report(cfg.status, { console: openConsole("/").master });
      if (readSync(cfg.go, new Uint8Array(1)) !== 1) return EXIT_ENGINE;
    }
    enterCwd(p);
    const path = lookPath(p.args[0]!, p.env ?? [], p.cwd);
    const filter = late.filter === undefined ? undefined : unflattenFilter(late.filter);
    const prepared = prepareProcess(path, p, filter);
    // A change of user clears the parent-death signal.
    if (cfg.pdeathsig) prctl(PR_SET_PDEATHSIG, 9);
    // The launcher says go once this process is in the container's cgroup (the kernel makes
    // that wait 10-17 ms, spent on the work above): nothing runs as the container's before.
    if (readSync(cfg.go, new Uint8Array(1)) !== 1) return EXIT_ENGINE;
    execPrepared(prepared);
  } catch (error) {
    const code = error instanceof EngineError ? error.exitCode : EXIT_ENGINE;
    report(cfg.status, { error: describeError(error), code });
    return code;
  }
}
