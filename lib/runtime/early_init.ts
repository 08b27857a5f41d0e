/**
 * A container's init started before its bundle exists: a foreground `run`
 * spawns it as soon as it knows it will run a container, so that init's
 * Deno boots (~20 ms), and its join of the cgroup waits out the kernel's
 * grace period (10-17 ms), while berth loads its modules and writes the
 * bundle. The init waits on its go pipe for the rest of its config, which
 * {@linkcode createContainer} sends when it adopts it.
 *
 * @module
 */
import { closeFd, pipe, setCloexec } from "../../ffi/fd.ts";
import {
  type Cgroup,
  cgroupRelativePath,
  joinCgroupAsync,
  makeCgroupDirs,
  removeCgroup,
} from "./cgroup.ts";
import { type EarlyInitConfig, INIT_ENV, type LateConfig, sendLateConfig } from "./init_config.ts";
import {
  initArgv,
  type Launched,
  SPAWN_NAMESPACES,
  spawnInNamespaces,
  type Stdio,
} from "./launch.ts";
import type { Spec } from "./spec.ts";

/** Options for {@linkcode EarlyInit.start}, and what a create must want to adopt it. */
export interface EarlyInitOptions {
  /** argv that re-executes berth. */
  self: string[];
  /** @default all "inherit" */
  stdio?: Stdio;
  /** @default false */
  pdeathsig?: boolean;
}

/** An adopted early init: the launched process and its cgroup (joined once `joined` settles). */
export interface Adopted {
  launched: Launched;
  cgroup: Cgroup;
  joined: Promise<void>;
}

const stdioKey = (s: Stdio | undefined) =>
  [s?.stdin ?? "inherit", s?.stdout ?? "inherit", s?.stderr ?? "inherit"].join();

const keyOf = (o: EarlyInitOptions) =>
  JSON.stringify([o.self, stdioKey(o.stdio), o.pdeathsig ?? false]);

/** Whether `spec` asks for new PID, NET, UTS and IPC namespaces: the ones an early init has. */
function wantsEarlyNamespaces(spec: Spec): boolean {
  const spawned = (spec.linux?.namespaces ?? []).filter((n) => SPAWN_NAMESPACES.includes(n.type));
  return spawned.every((n) => n.path === undefined) &&
    SPAWN_NAMESPACES.every((type) => spawned.some((n) => n.type === type));
}

/** Spawns init in new PID, NET, UTS and IPC namespaces, told to wait for its {@linkcode LateConfig}. */
function spawnEarly(options: EarlyInitOptions): Launched {
  const [statusR, statusW] = pipe();
  const [goR, goW] = pipe();
  setCloexec(statusR);
  setCloexec(goW);
  const pdeathsig = options.pdeathsig ?? false;
  const cfg: EarlyInitConfig = { early: true, status: statusW, go: goR, pdeathsig };
  const [cmd, ...args] = initArgv(options.self);
  try {
    const child = spawnInNamespaces(
      SPAWN_NAMESPACES.map((type) => ({ type })),
      () =>
        new Deno.Command(cmd!, {
          args,
          env: { [INIT_ENV]: JSON.stringify(cfg) },
          stdin: options.stdio?.stdin ?? "inherit",
          stdout: options.stdio?.stdout ?? "inherit",
          stderr: options.stdio?.stderr ?? "inherit",
        }).spawn(),
    );
    return { child, status: statusR, go: goW };
  } catch (error) {
    closeFd(statusR);
    closeFd(goW);
    throw error;
  } finally {
    closeFd(statusW);
    closeFd(goR);
  }
}

/** An init waiting for its bundle, already in its container's cgroup; see the module doc. */
export class EarlyInit {
  /** The container's id: its cgroup is named after it. */
  readonly id: string;
  /** init's pid: the container's once adopted. */
  readonly pid: number;
  #launched: Launched | undefined;
  #options: EarlyInitOptions;
  #cgroup: Cgroup;
  #joined: Promise<void>;
  #killed = false;

  private constructor(id: string, launched: Launched, options: EarlyInitOptions, cgroup: Cgroup) {
    this.id = id;
    this.pid = launched.child.pid;
    this.#launched = launched;
    this.#options = options;
    this.#cgroup = cgroup;
    // Settles once the kernel's grace period passes; failure is the adopter's (or discard's).
    this.#joined = joinCgroupAsync(cgroup, launched.child.pid);
    this.#joined.catch(() => {});
  }

  /**
   * Spawns init for container `id` and makes it join the container's cgroup
   * (`berth/<id>`, no limits yet), without waiting for the join.
   * @throws {SyscallError} when the namespaces or pipes cannot be made (not root);
   *   {Error} when the cgroup cannot be made
   */
  static start(id: string, options: EarlyInitOptions): EarlyInit {
    const launched = spawnEarly(options);
    let cgroup: Cgroup;
    try {
      // The unified directory too on a hybrid host: Docker's specs always filter devices.
      cgroup = makeCgroupDirs(cgroupRelativePath(id), { unified: true });
    } catch (error) {
      launched.child.kill("SIGKILL");
      closeFd(launched.status);
      closeFd(launched.go);
      throw error;
    }
    return new EarlyInit(id, launched, options, cgroup);
  }

  /**
   * Hands the init over to create container `id` from `spec` and sends it
   * `late`, when it was started as `options` say, for `id`'s default cgroup,
   * and with the namespaces `spec` wants. Otherwise discards it (see
   * {@linkcode discard}) and returns undefined: the caller spawns one.
   * @throws {SyscallError} when init is gone (the caller still owns it then)
   */
  async adopt(
    id: string,
    spec: Spec,
    late: LateConfig,
    options: EarlyInitOptions,
  ): Promise<Adopted | undefined> {
    const launched = this.#launched;
    if (launched === undefined || this.#killed) return undefined;
    if (
      id !== this.id || keyOf(options) !== keyOf(this.#options) || !wantsEarlyNamespaces(spec) ||
      cgroupRelativePath(id, spec.linux?.cgroupsPath) !== cgroupRelativePath(this.id)
    ) {
      // Gone with its cgroup before the caller makes the container's, which may have its path.
      await this.discard();
      return undefined;
    }
    sendLateConfig(launched.go, late);
    this.#launched = undefined;
    return { launched, cgroup: this.#cgroup, joined: this.#joined };
  }

  #kill(): void {
    const launched = this.#launched;
    if (launched === undefined || this.#killed) return;
    this.#killed = true;
    try {
      launched.child.kill("SIGKILL");
    } catch {
      // it ended
    }
    closeFd(launched.status);
    closeFd(launched.go);
  }

  /** Kills and reaps the init and removes its cgroup, unless it was adopted (idempotent). */
  async discard(): Promise<void> {
    const launched = this.#launched;
    if (launched === undefined) return;
    this.#kill();
    this.#launched = undefined;
    await launched.child.status;
    // Piped stdio nobody reads would stay open as resources of this process.
    const { stdin, stdout, stderr } = this.#options.stdio ?? {};
    if (stdin === "piped") await launched.child.stdin.close().catch(() => {});
    if (stdout === "piped") await launched.child.stdout.cancel().catch(() => {});
    if (stderr === "piped") await launched.child.stderr.cancel().catch(() => {});
    await this.#joined.catch(() => {});
    await removeCgroup(this.#cgroup);
  }
}
