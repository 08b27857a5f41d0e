/**
 * berth's OCI runtime: runs an OCI bundle (runtime-spec `config.json` and a
 * rootfs) in new namespaces, with cgroup limits, Docker's security defaults,
 * and runc's create/start/state/kill/delete lifecycle, plus exec, pause and
 * stats. It never reads the image store: the engine writes the bundle.
 *
 * How a container starts: the caller's JS main thread unshares (or joins)
 * PID/NET/UTS/IPC, spawns berth again as init (`init_main.ts` under
 * `deno run`, `berth runtime __init` when compiled) and goes straight back;
 * the caller puts init in the cgroup and writes "go" on a pipe; init makes
 * its mount and cgroup namespaces, builds the root, pivots, drops
 * capabilities, reports "ready" and waits on the exec FIFO for `start`.
 * Errors come back over a close-on-exec status pipe (126/127 for the command).
 * A foreground `run` may start init earlier, before the bundle exists
 * ({@linkcode EarlyInit}: it boots and joins the cgroup meanwhile); create
 * then sends it the bundle on the go pipe instead of spawning one.
 *
 * @example
 * ```ts
 * import { createContainer, defaultSpec, deleteContainer, startContainer, waitContainer } from "./lib/runtime/mod.ts";
 * Deno.writeTextFileSync("/tmp/bundle/config.json", JSON.stringify(defaultSpec({ args: ["sh", "-c", "exit 3"] })));
 * const c = await createContainer("/tmp/bundle", "web", { self: ["berth"], pdeathsig: true });
 * await startContainer(c);
 * const { exitCode, oomKilled } = await waitContainer(c); // 3, false
 * await deleteContainer(c.stateRoot, c.id);
 * ```
 * @module
 */
export {
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICE_RULES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH,
  DEFAULT_READONLY_PATHS,
  defaultSpec,
  type DefaultSpecOptions,
} from "./default_spec.ts";
export {
  type Capabilities,
  type DeviceRule,
  type Hook,
  type Hooks,
  type Linux,
  type Mount,
  OVERLAY_ANNOTATION,
  type Process,
  type Resources,
  type Seccomp,
  type SeccompArg,
  type Spec,
  validateSpec,
} from "./spec.ts";
export type { Container, CreateOptions, ExitResult } from "./container.ts";
export type { Stdio } from "./launch.ts";
export { createContainer, loadSpec } from "./create.ts";
export { EarlyInit, type EarlyInitOptions } from "./early_init.ts";
export { startContainer } from "./start.ts";
export { waitContainer } from "./wait.ts";
export { killContainer, parseSignal } from "./kill.ts";
export { deleteContainer, type DeleteOptions } from "./delete.ts";
export { containerState, listContainers } from "./query.ts";
export { DEFAULT_STATE_ROOT, type State } from "./state.ts";
export { cgroupVersion } from "./cgroup.ts";
// init's code (init.ts) loads only in init: `runtime __init` imports it itself.
export { INIT_ENV, type InitConfig } from "./init_config.ts";
export {
  closeConsole,
  type ConsoleEnds,
  copyConsole,
  rawTerminal,
  resizeConsole,
  terminalSize,
  type WinSize,
} from "./console.ts";
export {
  execInContainer,
  type ExecOptions,
  type ExecProcess,
  PendingExec,
  startExec,
  type StartExecOptions,
} from "./exec.ts";
export { isFrozen, pauseContainer, resumeContainer } from "./pause.ts";
export { containerPids, containerStats, type Stats } from "./stats.ts";
export { seccompFromDockerProfile } from "./seccomp_profile.ts";
export { dockerDefaultSeccomp } from "./seccomp_default.ts";
export { secureJoin } from "./secure_join.ts";
export { hostDevices } from "./device_filter.ts";
