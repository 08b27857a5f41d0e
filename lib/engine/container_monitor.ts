/**
 * Detached containers: `run -d`, `start` and restarts put each one under a
 * conmon of its own (see container_conmon.ts), start it, and leave; conmon
 * runs `berth container __exited ID` when it ends, which records the exit and
 * applies the restart policy. Also: noticing monitors that died (SIGKILL, host
 * reboot) and showing their containers as exited.
 *
 * @module
 */
import { containerEvent } from "./events.ts";
import { connectNetwork, disconnectNetwork, joinNetworkNamespace } from "./container_network.ts";
import { describeError, EngineError, exitCodeOf } from "../errors.ts";
import { deleteContainer, startContainer } from "../runtime/mod.ts";
import { AttachClient } from "./container_attach.ts";
import {
  claimExit,
  conmonAttachPath,
  type ConmonContext,
  exitFile,
  findConmon,
  launchConmon,
  recordExit,
} from "./container_conmon.ts";
import { refreshSecurityDefaults } from "./container_create.ts";
import { prepareVolumes } from "./container_mounts.ts";
import { ensureHealthd } from "./health.ts";
import {
  type ContainerRecord,
  markRunning,
  monitorAlive,
  startTimeOf,
} from "./container_record.ts";
import { pathExists } from "../store/mod.ts";
import { removeSessionSockets } from "./container_exec_session.ts";
import { releaseVolumes, VolumeStore } from "./volumes.ts";

export type { ConmonContext } from "./container_conmon.ts";

/** A started detached container. */
export interface DetachedStart {
  /** The container's init pid. */
  pid: number;
  /** The attach connection, when asked for (it was made before the container started). */
  client?: AttachClient;
}

/**
 * Starts container `id` under a conmon of its own and returns once it runs.
 * With `attach`, this process connects to the attach socket before the
 * container starts, so that no output is missed (a foreground `run -i` that
 * can later detach).
 * @throws {EngineError} with the container's start error and exit code; the error is recorded
 */
export async function startDetached(
  ctx: ConmonContext,
  id: string,
  options: { attach?: boolean; consoleSize?: { rows: number; cols: number } } = {},
): Promise<DetachedStart> {
  const conmon = findConmon();
  const record = ctx.containers.read(id);
  const dir = ctx.containers.path(id);
  // A previous run whose monitor was killed may have left runtime state behind.
  await deleteContainer(ctx.runtimeRoot, id, { force: true }).catch(() => {});
  let client: AttachClient | undefined;
  let launched;
  try {
    refreshSecurityDefaults(record, dir, ctx.containers.tmpDir);
    prepareVolumes(ctx.containers, record);
    if (record.Config.Tty && options.consoleSize !== undefined) {
      setConsoleSize(`${dir}/bundle/config.json`, options.consoleSize, ctx.containers.tmpDir);
    }
    joinNetworkNamespace(ctx.containers, record, `${dir}/bundle`);
    launched = await launchConmon(ctx, record, conmon);
    // init waits in its namespaces for the start: its link is made now.
    await connectNetwork(ctx.containers, id, launched.pid);
    if (options.attach) {
      client = AttachClient.connectConmon(conmonAttachPath(ctx.runRoot, id), {
        bundle: `${dir}/bundle`,
        exit: () => waitForExit(ctx, id),
      });
    }
    // Recorded before the start: the exit can be recorded (by conmon's exit command) right after.
    const now = new Date().toISOString();
    const pid = launched.pid;
    ctx.containers.update(id, (r) => {
      markRunning(r, pid, now);
      r.Monitor = launched!.monitor;
    });
    containerEvent(ctx.containers, "start", id);
    await startContainer({ stateRoot: ctx.runtimeRoot, id });
    ensureHealthd(ctx, id);
    return { pid, ...(client !== undefined ? { client } : {}) };
  } catch (error) {
    client?.close();
    if (launched !== undefined) {
      await deleteContainer(ctx.runtimeRoot, id, { force: true }).catch(() => {});
      await disconnectNetwork(ctx.containers, id).catch(() => {});
      // conmon saw its container end: take the exit from its exit command, which then does nothing.
      for (let i = 0; i < 200 && claimExit(ctx.runRoot, id) === undefined; i++) {
        if (startTimeOf(launched.monitor.pid) !== launched.monitor.startTime) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    try {
      ctx.containers.update(id, (r) => {
        r.State = {
          ...r.State,
          Status: r.RestartCount > 0 ? "exited" : "created",
          Running: false,
          Restarting: false,
          Pid: 0,
          Error: describeError(error),
          ExitCode: exitCodeOf(error),
        };
        delete r.Monitor;
      });
    } catch {
      // removed meanwhile
    }
    throw error instanceof EngineError
      ? error
      : new EngineError("Cannot start container", { cause: error });
  }
}

/** The pty starts with the attaching terminal's size, before the container's first output. */
function setConsoleSize(
  path: string,
  size: { rows: number; cols: number },
  tmpDir: string,
): void {
  const spec = JSON.parse(Deno.readTextFileSync(path));
  spec.process.consoleSize = { height: size.rows, width: size.cols };
  const tmp = `${tmpDir}/config.${Deno.pid}.${Date.now()}.json`;
  Deno.writeTextFileSync(tmp, JSON.stringify(spec));
  Deno.renameSync(tmp, path);
}

/**
 * Waits until container `id`'s exit is recorded (claiming it from conmon's
 * exit file if nobody did yet).
 * @returns the exit code, or undefined when its monitor died without one
 */
export async function waitForExit(ctx: ConmonContext, id: string): Promise<number | undefined> {
  for (let delay = 2;; delay = Math.min(delay * 2, 50)) {
    let record: ContainerRecord;
    try {
      record = ctx.containers.read(id);
    } catch {
      return removedExit(ctx, id);
    }
    const lost = record.State.Running && !monitorAlive(record) &&
      !pathExists(exitFile(ctx.runRoot, id));
    const { record: now } = await reconcile(ctx, record);
    if (lost) return undefined;
    if (!now.State.Running) return now.State.ExitCode;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * `container __exited ID`, run by conmon once the container has ended: records
 * the exit (unless another berth process did already) and, when the restart
 * policy wants the container back, waits Docker's back-off and starts it again.
 */
export async function handleExit(ctx: ConmonContext, id: string): Promise<void> {
  const code = claimExit(ctx.runRoot, id);
  if (code !== undefined) {
    await recordExit(ctx, id, code, (i) => removeRecord(ctx, i));
  } else {
    // Another berth process claimed the exit (a `stop` or `ps` that saw it first) and is
    // recording it: whether the policy wants the container back is known once it has.
    await untilRecorded(ctx, id, 10_000);
  }
  for (;;) {
    let record: ContainerRecord;
    try {
      record = ctx.containers.read(id);
    } catch {
      return; // removed
    }
    if (!record.State.Restarting) return;
    const ran = Date.parse(record.State.FinishedAt) - Date.parse(record.State.StartedAt);
    // Docker's back-off: 100 ms, doubling up to a minute; back to 100 ms after a run of 10 s.
    const delay = ran >= 10_000
      ? 100
      : Math.min(100 * 2 ** Math.min(record.RestartCount, 10), 60_000);
    await new Promise((r) => setTimeout(r, delay));
    try {
      record = ctx.containers.update(id, (r) => {
        if (r.StoppedByUser || !r.State.Restarting) {
          r.State.Status = "exited";
          r.State.Restarting = false;
          delete r.Monitor;
        } else {
          r.RestartCount++;
        }
      });
    } catch {
      return;
    }
    if (!record.State.Restarting) return;
    // A stop may have come while the update above was being written.
    try {
      if (ctx.containers.read(id).StoppedByUser) return;
    } catch {
      return; // removed
    }
    try {
      await startDetached(ctx, id);
      return;
    } catch {
      return; // recorded in its state
    }
  }
}

/**
 * Removes a `--rm` container's record once its exit is recorded, leaving its
 * exit code in `exits/ID.removed` for an attached client that is still
 * waiting for it (`run --rm -i` in another process); those notes go after a
 * few minutes.
 */
/** Waits (up to `ms`) until the record no longer says running, or is gone. */
async function untilRecorded(ctx: ConmonContext, id: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (let delay = 2; Date.now() < end; delay = Math.min(delay * 2, 50)) {
    try {
      if (!ctx.containers.read(id).State.Running) return;
    } catch {
      return; // removed
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

function removeRecord(ctx: ConmonContext, id: string): Promise<void> {
  const exits = `${ctx.runRoot}/exits`;
  try {
    const record = ctx.containers.read(id);
    const tmp = `${exits}/.${id}.${Deno.pid}`;
    Deno.writeTextFileSync(tmp, String(record.State.ExitCode));
    Deno.renameSync(tmp, `${exits}/${id}.removed`);
    removeSessionSockets(ctx.containers.path(id), ctx.runRoot);
    Deno.removeSync(ctx.containers.path(id), { recursive: true });
    // `--rm` takes the container's anonymous volumes with it, as Docker's does.
    const volumes = new VolumeStore(ctx.containers.root, ctx.containers.tmpDir);
    releaseVolumes(volumes, record, ctx.containers.list(), { anonymous: true });
  } catch {
    // removed meanwhile (`rm -f`)
  }
  const old = Date.now() - 5 * 60_000;
  try {
    for (const entry of Deno.readDirSync(exits)) {
      if (!entry.name.endsWith(".removed")) continue;
      const path = `${exits}/${entry.name}`;
      if ((Deno.statSync(path).mtime?.getTime() ?? 0) < old) Deno.removeSync(path);
    }
  } catch {
    // another process swept them
  }
  return Promise.resolve();
}

/** The exit code a removed `--rm` container left (read once). */
function removedExit(ctx: ConmonContext, id: string): number | undefined {
  const path = `${ctx.runRoot}/exits/${id}.removed`;
  try {
    const code = Number(Deno.readTextFileSync(path).trim());
    Deno.removeSync(path);
    return Number.isInteger(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Brings a record that says running up to date: an exit conmon wrote and
 * nobody recorded yet is recorded now; a record whose monitor is gone
 * (killed, or the host rebooted) is marked exited and its runtime leftovers
 * removed.
 * @returns the corrected record (the last one, if `--rm` removed it), and
 *   whether its restart policy wants it back
 */
export async function reconcile(
  ctx: ConmonContext,
  record: ContainerRecord,
): Promise<{ record: ContainerRecord; revive: boolean }> {
  const live = record.State.Running || record.State.Restarting;
  if (!live) return { record, revive: false };
  if (record.State.Running) {
    const code = claimExit(ctx.runRoot, record.Id);
    if (code !== undefined) {
      const now = await recordExit(ctx, record.Id, code, (id) => removeRecord(ctx, id));
      // A `--rm` container is gone now: its last state is shown once more.
      const gone = { ...record.State, Status: "exited" as const, Running: false, ExitCode: code };
      return { record: now ?? { ...record, State: gone }, revive: false };
    }
  }
  if (monitorAlive(record)) return { record, revive: false };
  await deleteContainer(ctx.runtimeRoot, record.Id, { force: true }).catch(() => {});
  await disconnectNetwork(ctx.containers, record.Id).catch(() => {});
  const fixed = ctx.containers.update(record.Id, (r) => {
    r.State = {
      ...r.State,
      Status: "exited",
      Running: false,
      Restarting: false,
      Pid: 0,
      ExitCode: 137,
      Error: "The container's monitor exited unexpectedly",
      FinishedAt: new Date().toISOString(),
    };
    delete r.Monitor;
  });
  const policy = fixed.HostConfig.RestartPolicy.Name;
  return {
    record: fixed,
    revive: !fixed.StoppedByUser && (policy === "always" || policy === "unless-stopped"),
  };
}
