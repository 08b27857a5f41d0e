/**
 * `create`: validate the bundle, make the cgroup, launch init in its
 * namespaces and leave it waiting on the exec FIFO until `start`.
 *
 * @module
 */
import { mknod, S_IFIFO } from "../../ffi/fs.ts";
import { closeFd, writeAll } from "../../ffi/fd.ts";
import { takeFd } from "../../ffi/proc.ts";
import { setWinSize } from "../../ffi/pty.ts";
import { ConflictError, EngineError, InvalidError } from "../errors.ts";
import {
  cgroupRelativePath,
  createCgroup,
  joinCgroup,
  limitCgroup,
  removeCgroup,
} from "./cgroup.ts";
import type { Container, CreateOptions } from "./container.ts";
import { runHooks } from "./hooks.ts";
import {
  type HostMounts,
  noteHostMounts,
  ownsMountNamespace,
  releaseHostMounts,
} from "./host_mounts.ts";
import { checkNamespaces, type Launched, launchInit } from "./launch.ts";
import { DEFAULT_STATE_ROOT, fifoPath, procStat, stateDir, writeState } from "./state.ts";
import { initError, StatusReader } from "./_status.ts";
import { loadSpec } from "./spec.ts";

export { loadSpec } from "./spec.ts";

const absolute = (path: string) =>
  (path.startsWith("/") ? path : `${Deno.cwd()}/${path}`).replace(/\/+$/, "");

/**
 * Deno loads its timer code on the first setTimeout (~4.5 ms here, from the code cache).
 * Called while init builds the root and this process only waits for it, so that the
 * timers the caller needs once the container exits (a drain deadline, delete's retries)
 * do not add that to the container's end.
 */
function warmTimers(): void {
  clearTimeout(setTimeout(() => {}, 0));
}

/**
 * Creates a container from an OCI bundle; its process waits for {@linkcode startContainer}.
 * @param bundle the bundle directory (config.json + rootfs)
 * @param id the container id (letters, digits, `_.-`)
 * @throws {InvalidError} bad config.json; {ConflictError} id in use; {EngineError} init failed (126/127 for the command)
 */
export async function createContainer(
  bundle: string,
  id: string,
  options: CreateOptions,
): Promise<Container> {
  const stateRoot = options.stateRoot ?? DEFAULT_STATE_ROOT;
  bundle = absolute(bundle);
  const spec = loadSpec(bundle);
  checkNamespaces(spec);
  const rootfs = spec.root.path.startsWith("/") ? spec.root.path : `${bundle}/${spec.root.path}`;
  try {
    if (!Deno.statSync(rootfs).isDirectory) throw new Deno.errors.NotADirectory(rootfs);
  } catch (error) {
    throw new InvalidError(`Invalid config.json: "root.path" "${rootfs}" is not a directory`, {
      cause: error,
    });
  }
  if (!ownsMountNamespace(spec) && Deno.realPathSync(rootfs) === "/") {
    // Its mounts would be the host's root: its propagation would change, delete would detach there.
    throw new InvalidError(
      `Invalid config.json: "root.path" "/" is the host's root: ` +
        `a container without a mount namespace needs a rootfs of its own`,
    );
  }
  const rel = cgroupRelativePath(id, spec.linux?.cgroupsPath);
  const dir = stateDir(stateRoot, id);
  Deno.mkdirSync(stateRoot, { recursive: true, mode: 0o711 });
  try {
    Deno.mkdirSync(dir, { mode: 0o711 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new ConflictError(`Container "${id}" already exists`);
    }
    throw error;
  }
  let launched: Launched | undefined;
  let cgroup;
  let hostMounts: HostMounts | undefined;
  let master: number | undefined;
  let status: StatusReader | undefined;
  try {
    const fifo = fifoPath(stateRoot, id);
    mknod(fifo, S_IFIFO | 0o622);
    Deno.chmodSync(fifo, 0o622);
    // Init starts first: its runtime boots (~20 ms) while the cgroup is made. It waits for
    // the go byte below, sent once it is in the cgroup, before it does anything.
    const launch = {
      self: options.self,
      ...(options.stdio ? { stdio: options.stdio } : {}),
      pdeathsig: options.pdeathsig ?? false,
    };
    const io = { fifo, ...(spec.process.terminal ? { console: true } : {}) };
    hostMounts = noteHostMounts(spec, rootfs);
    // Or it started before the bundle existed, and is joining the cgroup already.
    const early = await options.init?.adopt(id, spec, { bundle, rootfs, ...io }, launch);
    launched = early?.launched ?? launchInit(spec, bundle, rootfs, { ...launch, ...io });
    status = new StatusReader(launched.status);
    const pid = launched.child.pid;
    if (early === undefined) {
      cgroup = createCgroup(rel, spec.linux?.resources, {
        ownParents: spec.linux?.cgroupsPath !== undefined,
      });
      joinCgroup(cgroup, pid);
    } else {
      cgroup = early.cgroup;
      const joined = new Set(Object.values(cgroup.dirs));
      limitCgroup(cgroup, rel, spec.linux?.resources ?? {});
      await early.joined;
      const more = Object.entries(cgroup.dirs).filter(([, dir]) => !joined.has(dir));
      if (more.length > 0) joinCgroup({ ...cgroup, dirs: Object.fromEntries(more) }, pid);
    }
    await options.beforeSetup?.(pid);
    const hooks = [...(spec.hooks?.prestart ?? []), ...(spec.hooks?.createRuntime ?? [])];
    if (hooks.length > 0) {
      const annotations = spec.annotations ? { annotations: spec.annotations } : {};
      await runHooks(hooks, {
        ociVersion: spec.ociVersion,
        id,
        status: "creating",
        pid,
        bundle,
        ...annotations,
      });
    }
    writeAll(launched.go, new Uint8Array([1]));
    warmTimers();
    const message = await status.next();
    if (message === undefined) {
      const st = await launched.child.status;
      throw new EngineError(`Container init exited with status ${st.code} before it was ready`);
    }
    if ("error" in message) throw initError(message);
    if (message.console !== undefined) {
      master = takeFd(pid, message.console);
      const size = spec.process.consoleSize;
      if (size) setWinSize(master, { rows: size.height, cols: size.width });
    }
    const record = {
      ociVersion: spec.ociVersion,
      id,
      pid,
      bundle,
      rootfs,
      created: new Date().toISOString(),
      startTime: procStat(pid)?.startTime ?? "",
      cgroup,
      ...(hostMounts ? { hostMounts } : {}),
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    };
    writeState(stateRoot, record);
    if (options.pidFile) Deno.writeTextFileSync(options.pidFile, String(pid));
    return {
      id,
      stateRoot,
      bundle,
      spec,
      pid,
      cgroup,
      child: launched.child,
      status,
      ...(master === undefined ? {} : { console: master }),
    };
  } catch (error) {
    status?.close();
    if (launched !== undefined) {
      try {
        launched.child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await launched.child.status;
    }
    if (cgroup !== undefined) await removeCgroup(cgroup);
    if (hostMounts !== undefined) releaseHostMounts(hostMounts);
    if (master !== undefined) closeFd(master);
    Deno.removeSync(dir, { recursive: true });
    throw error;
  } finally {
    if (launched !== undefined) closeFd(launched.go);
  }
}
