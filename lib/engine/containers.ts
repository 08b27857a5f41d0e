/**
 * Docker's container operations over the container records, the runtime and
 * the monitor: create, start (attached or detached), stop, kill, remove,
 * list, wait, logs and exec.
 *
 * @module
 */
import { disconnectNetwork, renamedOnNetworks } from "./container_network.ts";
import { ConflictError, EngineError, NotFoundError } from "../errors.ts";
import {
  containerStats,
  type ExitResult,
  killContainer,
  parseSignal,
  pauseContainer,
  resumeContainer,
  type Stats,
} from "../runtime/mod.ts";
import type { Store } from "../store/mod.ts";
import { type ContainerOptions, createContainerRecord } from "./container_create.ts";
import { checkName, type ContainerRecord, ContainerStore } from "./container_record.ts";
import { upperDiff } from "./container_diff.ts";
import { AttachClient, attachSocketPath } from "./container_attach.ts";
// container_cp.ts pulls in the tar code; it is loaded only when a copy runs.
import type { CopyOptions, TarSink } from "./container_cp.ts";
import type { UpdateOptions } from "./container_update.ts";
import {
  type ConmonContext,
  handleExit,
  reconcile,
  startDetached,
  waitForExit,
} from "./container_monitor.ts";
import { conmonAttachPath, exitFile } from "./container_conmon.ts";
import { containerLogPath } from "./container_logs.ts";
import { type AttachIO, superviseContainer, type SuperviseContext } from "./container_supervise.ts";
import { execInRunning, type ExecIO, type ExecProcess } from "./container_exec.ts";
import { type ImageRecord, resolveImage } from "./image_records.ts";
import { deleteContainer } from "../runtime/mod.ts";
import { pathExists, treeSize } from "../store/mod.ts";
import { removeSessionSockets } from "./container_exec_session.ts";
import { containerEvent } from "./events.ts";
import { releaseVolumes, VolumeStore } from "./volumes.ts";

/** How the container service reaches berth itself and its state. */
export interface ContainerServiceOptions {
  /** argv that re-executes berth (no global flags). */
  self: string[];
  /** Root of runtime state (`--run-root`). */
  runRoot: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Containers of one store root. */
export class ContainerService {
  readonly store: Store;
  readonly records: ContainerStore;
  readonly #ctx: SuperviseContext & ConmonContext;

  constructor(store: Store, options: ContainerServiceOptions) {
    this.store = store;
    this.records = new ContainerStore(store.root, store.tmpDir);
    this.#ctx = {
      containers: this.records,
      self: options.self,
      runtimeRoot: `${options.runRoot}/runtime`,
      runRoot: options.runRoot,
      berth: [...options.self, "--root", store.root, "--run-root", options.runRoot],
    };
  }

  /** Every container, with dead monitors noticed (and `always` containers revived). */
  async list(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const record of this.records.list()) {
      const { record: fixed, revive } = await reconcile(this.#ctx, record);
      if (revive) {
        await startDetached(this.#ctx, fixed.Id).catch(() => {});
        out.push(this.records.read(fixed.Id));
      } else {
        out.push(fixed);
      }
    }
    return out;
  }

  /** Finds a container by name or ID (prefix). @throws {NotFoundError} */
  async get(given: string): Promise<ContainerRecord> {
    const record = this.records.resolve(given);
    return (await reconcile(this.#ctx, record)).record;
  }

  /** `create`: a container from an image, not started. */
  async create(options: ContainerOptions): Promise<ContainerRecord> {
    const image = resolveImage(this.store, options.imageName);
    const record = await createContainerRecord(this.store, this.records, image, options);
    containerEvent(this.records, "create", record.Id);
    return record;
  }

  /**
   * `create` from an image record that need not be in the index (a build's
   * intermediate state, whose layers are committed): the RUN steps of `build`.
   */
  createFrom(image: ImageRecord, options: ContainerOptions): Promise<ContainerRecord> {
    return createContainerRecord(this.store, this.records, image, options);
  }

  /** Runs a container attached to this process (foreground `run`, `start -a`). */
  runAttached(id: string, io: AttachIO): Promise<ExitResult> {
    return superviseContainer(this.#ctx, id, io);
  }

  /** Starts a container under a detached monitor. */
  async startDetached(given: string): Promise<ContainerRecord> {
    const record = await this.get(given);
    if (record.State.Running) return record;
    this.records.update(record.Id, (r) => delete r.StoppedByUser);
    await startDetached(this.#ctx, record.Id);
    return this.records.read(record.Id);
  }

  /**
   * Starts a container under a detached monitor with this process attached
   * from its first byte of output (foreground `run -i`, `start -ai`), so the
   * user can detach and leave it running.
   */
  async startAndAttach(
    given: string,
    options: { consoleSize?: { rows: number; cols: number } } = {},
  ): Promise<{ record: ContainerRecord; client: AttachClient }> {
    const record = await this.get(given);
    this.records.update(record.Id, (r) => delete r.StoppedByUser);
    const { client } = await startDetached(this.#ctx, record.Id, { ...options, attach: true });
    return { record: this.records.read(record.Id), client: client! };
  }

  /**
   * Attaches to a running container through its monitor's socket.
   * @throws {EngineError} (exit 1, Docker's words) when it is not running or paused
   */
  async attach(given: string): Promise<{ record: ContainerRecord; client: AttachClient }> {
    const record = await this.get(given);
    if (record.State.Paused) {
      throw new EngineError("You cannot attach to a paused container, unpause it first", {
        exitCode: 1,
      });
    }
    if (record.State.Restarting) {
      throw new EngineError(
        "You cannot attach to a restarting container, wait until it is running",
        { exitCode: 1 },
      );
    }
    if (!record.State.Running) {
      throw new EngineError("You cannot attach to a stopped container, start it first", {
        exitCode: 1,
      });
    }
    const conmonSocket = conmonAttachPath(this.#ctx.runRoot, record.Id);
    const client = pathExists(conmonSocket)
      ? AttachClient.connectConmon(conmonSocket, {
        bundle: `${this.records.path(record.Id)}/bundle`,
        exit: () => waitForExit(this.#ctx, record.Id),
      })
      // A foreground `run` serves its own attach socket.
      : await AttachClient.connect(attachSocketPath(this.#ctx.runRoot, record.Id));
    return { record, client };
  }

  /** What conmon runs when a detached container ends (hidden `container __exited ID`). */
  exited(id: string): Promise<void> {
    return handleExit(this.#ctx, id);
  }

  /** Waits until the container is no longer running; its exit code. */
  async wait(given: string, timeoutMs = Infinity): Promise<ContainerRecord> {
    const start = Date.now();
    let record = await this.get(given);
    // The monitor records the exit: poll soon at first (a signalled container ends within
    // milliseconds), then every 50 ms.
    for (
      let delay = 2;
      (record.State.Running || record.State.Restarting) && Date.now() - start < timeoutMs;
      delay = Math.min(delay * 2, 50)
    ) {
      await sleep(delay);
      try {
        record = await this.get(record.Id);
      } catch (error) {
        // removed by --rm meanwhile: it has exited
        if (error instanceof NotFoundError) return record;
        throw error;
      }
    }
    return record;
  }

  /** `kill -s SIGNAL`. @throws {ConflictError} when it is not running */
  async kill(given: string, signal = "SIGKILL"): Promise<ContainerRecord> {
    const record = await this.get(given);
    const signo = parseSignal(signal);
    if (!record.State.Running) {
      throw new ConflictError(
        `Cannot kill container: ${given}: Container ${record.Id} is not running`,
      );
    }
    if (signo === 9 || signo === 15) {
      this.records.update(record.Id, (r) => (r.StoppedByUser = true));
    }
    killContainer(this.#ctx.runtimeRoot, record.Id, signo);
    containerEvent(this.records, "kill", record.Id, { signal: String(signo) });
    return record;
  }

  /** `stop -t`: the stop signal, then SIGKILL after the timeout (seconds). */
  async stop(given: string, timeout?: number, signal?: string): Promise<ContainerRecord> {
    let record = await this.get(given);
    // A stop wins over the restart policy at once, as Docker's: a container waiting
    // out its restart back-off shows exited now, and its exit command, when it
    // wakes, finds it stopped and does not start it again.
    record = this.records.update(record.Id, (r) => {
      r.StoppedByUser = true;
      if (!r.State.Running && r.State.Restarting) {
        r.State.Restarting = false;
        r.State.Status = "exited";
      }
    });
    if (!record.State.Running) return record;
    const stopSignal = signal ?? record.Config.StopSignal ?? "SIGTERM";
    containerEvent(this.records, "kill", record.Id, { signal: String(parseSignal(stopSignal)) });
    const wait = timeout ?? record.Config.StopTimeout ?? 10;
    try {
      killContainer(this.#ctx.runtimeRoot, record.Id, stopSignal);
    } catch {
      // it exited meanwhile
    }
    record = await this.wait(record.Id, wait * 1000);
    if (record.State.Running) {
      try {
        killContainer(this.#ctx.runtimeRoot, record.Id, "SIGKILL");
      } catch {
        // it exited meanwhile
      }
      record = await this.wait(record.Id, 10_000);
    }
    containerEvent(this.records, "stop", record.Id);
    return record;
  }

  /**
   * `rm [-f] [-v]`: with `volumes`, its anonymous volumes go too (those no
   * other container uses; named ones stay, as in Docker).
   * @throws {ConflictError} for a running container without force
   */
  async remove(given: string, force = false, volumes = false): Promise<void> {
    let record = await this.get(given);
    if (record.State.Running || record.State.Restarting) {
      if (!force) {
        throw new ConflictError(
          `You cannot remove a running container ${record.Id}. Stop the container before attempting removal or force remove`,
        );
      }
      this.records.update(record.Id, (r) => (r.StoppedByUser = true));
      try {
        killContainer(this.#ctx.runtimeRoot, record.Id, "SIGKILL");
      } catch {
        // it exited meanwhile
      }
      record = await this.wait(record.Id, 10_000);
    }
    await deleteContainer(this.#ctx.runtimeRoot, record.Id, { force: true }).catch(() => {});
    await disconnectNetwork(this.records, record.Id);
    for (
      const leftover of [
        exitFile(this.#ctx.runRoot, record.Id),
        conmonAttachPath(this.#ctx.runRoot, record.Id).replace(/\/attach$/, ""),
      ]
    ) {
      try {
        Deno.removeSync(leftover);
      } catch {
        // none
      }
    }
    containerEvent(this.records, "destroy", record.Id);
    removeSessionSockets(this.records.path(record.Id), this.#ctx.runRoot);
    await this.store.locked(() => {
      try {
        Deno.removeSync(this.records.path(record.Id), { recursive: true });
      } catch (error) {
        // A `--rm` container's monitor may have removed it first.
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      const store = new VolumeStore(this.store.root, this.store.tmpDir);
      releaseVolumes(store, record, this.records.list(), { anonymous: volumes });
    });
  }

  /** `exec`: runs a process in a running container. */
  async exec(given: string, process: ExecProcess, io: ExecIO = {}): Promise<ExitResult> {
    const record = await this.get(given);
    containerEvent(this.records, `exec_start: ${[...process.args].join(" ")}`, record.Id);
    return execInRunning(
      {
        store: this.store,
        containerDir: this.records.path(record.Id),
        runtimeRoot: this.#ctx.runtimeRoot,
        self: this.#ctx.self,
      },
      record,
      process,
      io,
    );
  }

  /** `pause`: freezes the container's processes. @throws {ConflictError} when not running */
  async pause(given: string): Promise<ContainerRecord> {
    const record = await this.running(given);
    await pauseContainer(this.#ctx.runtimeRoot, record.Id);
    containerEvent(this.records, "pause", record.Id);
    return this.records.update(record.Id, (r) => {
      r.State.Paused = true;
      r.State.Status = "paused";
    });
  }

  /** `unpause`. @throws {ConflictError} when not paused */
  async unpause(given: string): Promise<ContainerRecord> {
    const record = await this.running(given);
    if (!record.State.Paused) throw new ConflictError(`Container ${record.Id} is not paused`);
    await resumeContainer(this.#ctx.runtimeRoot, record.Id);
    containerEvent(this.records, "unpause", record.Id);
    return this.records.update(record.Id, (r) => {
      r.State.Paused = false;
      r.State.Status = "running";
    });
  }

  /** Usage from the container's cgroup (`stats`), and its processes (`top`). */
  async stats(given: string): Promise<{ record: ContainerRecord; stats: Stats }> {
    const record = await this.running(given);
    return { record, stats: containerStats(this.#ctx.runtimeRoot, record.Id) };
  }

  /** `rename OLD NEW`. @throws {ConflictError} when the new name is taken */
  async rename(given: string, name: string): Promise<void> {
    const wanted = checkName(name);
    const oldName = this.records.resolve(given).Name;
    await this.store.locked(() => {
      const all = this.records.list();
      const record = this.records.resolve(given, all);
      const holder = all.find((c) => c.Name === `/${wanted}`);
      if (holder !== undefined) {
        throw new ConflictError(
          `Error when allocating new name: Conflict. The container name "/${wanted}" is already in use by container "${holder.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      this.records.update(record.Id, (r) => (r.Name = `/${wanted}`));
      return record.Id;
    }).then((id) => renamedOnNetworks(this.records, id));
    containerEvent(this.records, "rename", this.records.resolve(wanted).Id, { oldName });
  }

  /** `diff`: what the container changed against its image (its overlay upper dir). */
  async diff(given: string): Promise<{ kind: "A" | "C" | "D"; path: string }[]> {
    const record = await this.get(given);
    const layers = record.Layers.slice().reverse().map((c) =>
      this.store.layers.diffPath(c as `sha256:${string}`)
    );
    return upperDiff(`${this.records.path(record.Id)}/upper`, layers);
  }

  /**
   * `cp CONTAINER:SRC DEST`: copies out to a host path, or hands the tar to `dest` (`-`).
   * @throws {NotFoundError} `No such container: x`, `Could not find the file /x in container web`
   */
  async copyFrom(
    given: string,
    src: string,
    dest: string | TarSink,
    options: CopyOptions = {},
  ): Promise<void> {
    const record = await this.get(given);
    const { runtimeRoot } = this.#ctx;
    const dir = this.records.path(record.Id);
    const target = { record, given, dir, tmpDir: this.store.tmpDir, runtimeRoot };
    const { copyFromContainer } = await import("./container_cp.ts");
    await copyFromContainer(target, src, dest, options);
  }

  /**
   * `cp SRC CONTAINER:DEST`: copies a host path, or a tar's entries (`-`), into a container.
   * @throws {NotFoundError} `No such container: x`, or a missing source or destination
   */
  async copyTo(
    given: string,
    src: string | ReadableStream<Uint8Array>,
    dest: string,
    options: CopyOptions = {},
  ): Promise<void> {
    const record = await this.get(given);
    const { runtimeRoot } = this.#ctx;
    const dir = this.records.path(record.Id);
    const target = { record, given, dir, tmpDir: this.store.tmpDir, runtimeRoot };
    const { copyToContainer } = await import("./container_cp.ts");
    await copyToContainer(target, src, dest, options);
  }

  /**
   * `container prune`: removes the stopped containers that `keep` does not keep.
   * @returns their IDs and the bytes their writable layers held
   */
  async prune(
    keep: (record: ContainerRecord) => boolean = () => false,
  ): Promise<{ removed: string[]; reclaimed: number }> {
    const removed: string[] = [];
    let reclaimed = 0;
    for (const c of await this.list()) {
      if (c.State.Running || c.State.Restarting || keep(c)) continue;
      const size = treeSize(`${this.records.path(c.Id)}/upper`);
      try {
        await this.remove(c.Id);
      } catch (error) {
        if (error instanceof NotFoundError) continue; // removed by another process meanwhile
        throw error;
      }
      removed.push(c.Id);
      reclaimed += size;
    }
    return { removed, reclaimed };
  }

  /** `update`: new limits and restart policy (live for a running container). */
  async update(given: string, options: UpdateOptions): Promise<ContainerRecord> {
    const record = await this.get(given);
    const { updateContainer } = await import("./container_update.ts");
    const updated = updateContainer(this.records, this.#ctx.runtimeRoot, record.Id, options);
    containerEvent(this.records, "update", record.Id);
    return updated;
  }

  /** `export`: hands the tar of the container's file system to `sink`. */
  async export(given: string, sink: TarSink): Promise<void> {
    const record = await this.get(given);
    const { exportContainer } = await import("./container_export.ts");
    await exportContainer(this.records.path(record.Id), this.store.tmpDir, sink);
  }

  /** A running container by name or ID. @throws {ConflictError} when it is not running */
  async running(given: string): Promise<ContainerRecord> {
    const record = await this.get(given);
    if (!record.State.Running) throw new ConflictError(`Container ${record.Id} is not running`);
    return record;
  }

  /** The path of a container's json-file log. */
  logPath(record: ContainerRecord): string {
    return containerLogPath(this.records.path(record.Id), record.Id);
  }
}
