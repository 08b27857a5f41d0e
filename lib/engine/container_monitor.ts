/**
 * Detached containers: `run -d` and `start` re-execute berth as a monitor in
 * its own session, wait for its one-line report (`ok PID` or
 * `error CODE MESSAGE`), and leave it running; the monitor supervises the
 * container until it ends. Also: noticing monitors that died (SIGKILL, host
 * reboot) and showing their containers as exited.
 *
 * @module
 */
import { setsid } from "../../ffi/proc.ts";
import { describeError, EngineError, exitCodeOf } from "../errors.ts";
import { deleteContainer } from "../runtime/mod.ts";
import type { ContainerRecord } from "./container_record.ts";
import { superviseContainer, type SuperviseContext } from "./container_supervise.ts";

/** How to start a monitor process. */
export interface MonitorLaunch {
  /** argv of berth with its global flags (`--root`, `--run-root`). */
  argv: string[];
}

/**
 * Starts a detached monitor for container `id` and waits until the container
 * runs or fails.
 * @throws {EngineError} with the container's start error and exit code
 */
export async function startDetached(launch: MonitorLaunch, id: string): Promise<void> {
  const child = new Deno.Command(launch.argv[0]!, {
    args: [...launch.argv.slice(1), "container", "__monitor", id],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  const decoder = new TextDecoder();
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  const line = text.split("\n")[0] ?? "";
  if (line.startsWith("ok")) {
    child.unref();
    return;
  }
  await child.status;
  const m = /^error (\d+) (.*)$/.exec(line);
  if (m === null) {
    throw new EngineError(`The monitor of container "${id}" exited before the container started`);
  }
  throw new EngineError(m[2]!, { exitCode: Number(m[1]) });
}

/**
 * The monitor process's main: detaches from the terminal's session, reports
 * once (through `reportOnce`: the CLI writes it to stdout, which the waiting
 * `run -d` reads) when the container runs or fails, and supervises the
 * container to its end.
 * @returns the monitor's exit status
 */
export async function runMonitor(
  ctx: SuperviseContext,
  id: string,
  reportOnce: (line: string) => void,
): Promise<number> {
  setsid();
  let reported = false;
  const report = (line: string) => {
    if (!reported) reportOnce(line);
    reported = true;
  };
  try {
    const result = await superviseContainer(ctx, id, { onStart: (pid) => report(`ok ${pid}`) });
    return result.exitCode;
  } catch (error) {
    report(`error ${exitCodeOf(error)} ${describeError(error).replace(/\n/g, " ")}`);
    return exitCodeOf(error);
  } finally {
    const record = ctx.containers.read(id);
    if (record.HostConfig.AutoRemove && !record.State.Running) {
      await deleteContainer(ctx.runtimeRoot, id, { force: true }).catch(() => {});
      Deno.removeSync(ctx.containers.path(id), { recursive: true });
    }
  }
}

/** A live process's start time (clock ticks after boot); undefined once it is gone or a zombie. */
function startTimeOf(pid: number): string | undefined {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
    return fields[0] === "Z" || fields[0] === "X" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/** Whether a record's monitor process is still the one that wrote it. */
export function monitorAlive(record: ContainerRecord): boolean {
  const m = record.Monitor;
  return m !== undefined && startTimeOf(m.pid) === m.startTime;
}

/**
 * A record that says running while its monitor is gone (killed, or the host
 * rebooted) is marked exited and its runtime leftovers removed.
 * @returns the corrected record, and whether its restart policy wants it back
 */
export async function reconcile(
  ctx: SuperviseContext,
  record: ContainerRecord,
): Promise<{ record: ContainerRecord; revive: boolean }> {
  const live = record.State.Running || record.State.Restarting;
  if (!live || monitorAlive(record)) return { record, revive: false };
  await deleteContainer(ctx.runtimeRoot, record.Id, { force: true }).catch(() => {});
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
