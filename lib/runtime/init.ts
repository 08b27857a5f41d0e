/**
 * The container's init: berth re-executed (`berth runtime __init`) inside
 * the new PID/NET/UTS/IPC namespaces. It waits for the launcher's go, makes
 * its mount (and cgroup) namespace, builds the root, switches user and
 * capabilities, and execs the container's process. Failures go to the
 * launcher through the status pipe (close-on-exec, so EOF means exec).
 *
 * Loads only ffi/ and the init-side modules, to start fast.
 *
 * @module
 */
import {
  closeFd,
  O_CLOEXEC,
  O_PATH,
  O_WRONLY,
  openFd,
  readSync,
  setCloexec,
  writeAll,
} from "../../ffi/fd.ts";
import { CLONE_FS, CLONE_NEWCGROUP, CLONE_NEWNS, openNs, setns, unshare } from "../../ffi/ns.ts";
import { PR_SET_PDEATHSIG, prctl, setdomainname, sethostname } from "../../ffi/proc.ts";
import type { SockFilter } from "../../ffi/seccomp.ts";
import { describeError, EngineError, EXIT_ENGINE } from "../errors.ts";
import { runExecInit } from "./exec_init.ts";
import { type EarlyInitConfig, type InitConfig, readLateConfig } from "./init_config.ts";
import { openConsole, report } from "./_init_io.ts";
import { lookPath } from "./look_path.ts";
import {
  enterCwd,
  execPrepared,
  joinContainerKeyring,
  prepareProcess,
  sessionKeyringName,
} from "./process_setup.ts";
import { enterRootfs, finishRootfs, makeCwd, prepareRootfs } from "./rootfs.ts";
import { seccompFilter } from "./seccomp.ts";
import { type Spec, validateSpec } from "./spec.ts";

export { INIT_ENV, type InitConfig } from "./init_config.ts";

/**
 * Makes or joins (by path) the mount and cgroup namespaces, as
 * `linux.namespaces` says; an absent type shares the caller's.
 */
function enterMountAndCgroup(spec: Spec): void {
  const find = (type: string) => spec.linux?.namespaces?.find((n) => n.type === type);
  const [mnt, cgroup] = [find("mount"), find("cgroup")];
  // Both paths are opened before either is joined: they name files of the caller's root.
  const mntFd = mnt?.path === undefined ? undefined : openNs(mnt.path);
  const cgroupFd = cgroup?.path === undefined ? undefined : openNs(cgroup.path);
  if (cgroupFd !== undefined) setns(cgroupFd, CLONE_NEWCGROUP, cgroup!.path);
  if (mntFd !== undefined) {
    // setns into a mount namespace needs an fs_struct of our own (threads share one).
    unshare(CLONE_FS);
    setns(mntFd, CLONE_NEWNS, mnt!.path!);
  }
  const flags = (mnt !== undefined && mntFd === undefined ? CLONE_NEWNS : 0) |
    (cgroup !== undefined && cgroupFd === undefined ? CLONE_NEWCGROUP : 0);
  if (flags !== 0) unshare(flags);
  for (const fd of [mntFd, cgroupFd]) if (fd !== undefined) closeFd(fd);
}

/** @returns the pty master when the process has a terminal */
function setupNamespaces(spec: Spec, cfg: InitConfig): number | undefined {
  enterMountAndCgroup(spec);
  let master: number | undefined;
  const makeConsole = () => {
    const pty = openConsole(cfg.rootfs);
    master = pty.master;
    return pty.slave;
  };
  prepareRootfs(spec, cfg.rootfs, cfg.bundle, cfg.console ? makeConsole : undefined);
  enterRootfs(cfg.rootfs, spec);
  // Before root.readonly and the masks apply, as runc does.
  makeCwd(spec.process.cwd);
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    Deno.writeTextFileSync(`/proc/sys/${key.replaceAll(".", "/")}`, value);
  }
  finishRootfs(spec);
  if (spec.hostname) sethostname(spec.hostname);
  if (spec.domainname) setdomainname(spec.domainname);
  return master;
}

/**
 * Blocks until `start` opens the FIFO (runc's exec.fifo) and writes it one byte.
 * @returns the FIFO's write end, left open (close-on-exec): `start` reads on to
 *   EOF, which exec brings, or to the error written there first
 */
function awaitStart(fifoFd: number): number {
  const fd = openFd(`/proc/self/fd/${fifoFd}`, O_WRONLY | O_CLOEXEC);
  writeAll(fd, new Uint8Array([0]));
  return fd;
}

/** The container id: the FIFO is `<state root>/<id>/exec.fifo`. */
const containerIdOf = (fifo: string): string | undefined => fifo.split("/").at(-2);

/**
 * Runs init; returns only on failure, with the exit status to use.
 * @param given what the launcher passed; an early init reads the rest from its go pipe
 */
export function runInit(given: InitConfig | EarlyInitConfig): number {
  setCloexec(given.status);
  setCloexec(given.go);
  if ("exec" in given && given.exec !== undefined) return runExecInit(given, given.exec);
  let command = "";
  let started: number | undefined;
  try {
    // Set before reading go: a launcher that died earlier shows as EOF there.
    if (given.pdeathsig) prctl(PR_SET_PDEATHSIG, 9);
    let cfg: InitConfig;
    if ("early" in given) {
      // Started before the launcher knew its bundle; EOF: the launcher did not need it.
      const late = readLateConfig(given.go);
      if (late === undefined) return EXIT_ENGINE;
      cfg = { status: given.status, go: given.go, pdeathsig: given.pdeathsig, ...late };
    } else {
      cfg = given;
    }
    const spec = validateSpec(JSON.parse(Deno.readTextFileSync(`${cfg.bundle}/config.json`)));
    const p = spec.process;
    command = p.args[0]!;
    // Compiled while the launcher joins the cgroup; an error waits for go (the launcher
    // writes it, and would find the pipe closed), then goes the usual way.
    let filter: SockFilter[] | undefined;
    let filterError: unknown;
    try {
      filter = spec.linux?.seccomp === undefined ? undefined : seccompFilter(spec.linux.seccomp);
    } catch (error) {
      filterError = error;
    }
    // The launcher writes one byte once the cgroup is joined; EOF means it died.
    if (readSync(cfg.go, new Uint8Array(1)) !== 1) return EXIT_ENGINE;
    if (filterError !== undefined) throw filterError;
    const fifoFd = cfg.fifo === undefined ? undefined : openFd(cfg.fifo, O_PATH | O_CLOEXEC);
    const master = setupNamespaces(spec, cfg);
    const id = cfg.fifo === undefined ? undefined : containerIdOf(cfg.fifo);
    joinContainerKeyring(id === undefined ? undefined : sessionKeyringName(id), true);
    enterCwd(p);
    const path = lookPath(command, p.env ?? [], p.cwd);
    const prepared = prepareProcess(path, p, filter);
    // A change of user clears the parent-death signal.
    if (cfg.pdeathsig) prctl(PR_SET_PDEATHSIG, 9);
    if (fifoFd !== undefined) {
      // The launcher copies the pty master out of this process (pidfd_getfd) meanwhile.
      report(cfg.status, { ready: true, ...(master === undefined ? {} : { console: master }) });
      started = awaitStart(fifoFd);
    }
    execPrepared(prepared);
  } catch (error) {
    const code = error instanceof EngineError ? error.exitCode : EXIT_ENGINE;
    const message = { error: describeError(error), code, command };
    report(given.status, message);
    // After start, `start` may be another process: it reads the FIFO.
    if (started !== undefined) report(started, message);
    return code;
  }
}
