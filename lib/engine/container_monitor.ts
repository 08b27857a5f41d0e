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
import { AttachClient, AttachHub, attachSocketPath } from "./container_attach.ts";
import type { ContainerRecord } from "./container_record.ts";
import { superviseContainer, type SuperviseContext } from "./container_supervise.ts";

/** How to start a monitor process. */
export interface MonitorLaunch {
  /** argv of berth with its global flags (`--root`, `--run-root`). */
  argv: string[];
}

/** A started detached container. */
export interface DetachedStart {
  /** The container's init pid. */
  pid: number;
  /** The attach connection, when asked for (it was made before the container started). */
  client?: AttachClient;
}

/**
 * Starts a detached monitor for container `id` and waits until the container
 * runs or fails. With `attach`, the monitor first opens the container's
 * attach socket and waits for this process to connect, so that no output is
 * missed (a foreground `run -i` that can later detach).
 * @throws {EngineError} with the container's start error and exit code
 */
export async function startDetached(
  launch: MonitorLaunch,
  id: string,
  options: { attach?: boolean } = {},
): Promise<DetachedStart> {
  const child = new Deno.Command(launch.argv[0]!, {
    args: [
      ...launch.argv.slice(1),
      "container",
      "__monitor",
      ...(options.attach ? ["--attach-first"] : []),
      id,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = new LineReader(child.stdout);
  let client: AttachClient | undefined;
  try {
    let line = await lines.next();
    if (line.startsWith("listening ")) {
      client = await AttachClient.connect(line.slice("listening ".length));
      line = await lines.next();
    }
    await lines.cancel();
    const ok = /^ok (\d+)$/.exec(line);
    if (ok !== null) {
      child.unref();
      return { pid: Number(ok[1]), ...(client !== undefined ? { client } : {}) };
    }
    await child.status;
    const m = /^error (\d+) (.*)$/.exec(line);
    if (m === null) {
      throw new EngineError(`The monitor of container "${id}" exited before the container started`);
    }
    throw new EngineError(m[2]!, { exitCode: Number(m[1]) });
  } catch (error) {
    client?.close();
    try {
      child.kill("SIGKILL");
    } catch {
      // it ended
    }
    await child.status;
    throw error;
  }
}

/** Reads a monitor's report lines. */
class LineReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #stream: ReadableStream<Uint8Array>;
  #text = "";
  #decoder = new TextDecoder();

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#stream = stream;
    this.#reader = stream.getReader();
  }

  /** The next line; "" at the end of the stream. */
  async next(): Promise<string> {
    while (!this.#text.includes("\n")) {
      const { done, value } = await this.#reader.read();
      if (done) break;
      this.#text += this.#decoder.decode(value, { stream: true });
    }
    const at = this.#text.indexOf("\n");
    const line = at < 0 ? this.#text : this.#text.slice(0, at);
    this.#text = at < 0 ? "" : this.#text.slice(at + 1);
    return line;
  }

  async cancel(): Promise<void> {
    this.#reader.releaseLock();
    await this.#stream.cancel().catch(() => {});
  }
}

/**
 * The monitor process's main: detaches from the terminal's session, opens
 * the container's attach socket, reports (through `report`: the CLI writes
 * it to stdout, which the waiting `run -d` reads) when the container runs or
 * fails, and supervises the container to its end. With `attachFirst` it
 * reports `listening PATH` first and starts the container once a client has
 * connected.
 * @returns the monitor's exit status
 */
export async function runMonitor(
  ctx: SuperviseContext,
  id: string,
  report: (line: string, final: boolean) => void,
  options: { attachFirst?: boolean } = {},
): Promise<number> {
  setsid();
  let reported = false;
  const reportFinal = (line: string) => {
    if (!reported) report(line, true);
    reported = true;
  };
  let hub: AttachHub | undefined;
  let exitCode = 0;
  try {
    hub = AttachHub.listen(attachSocketPath(ctx.runRoot, id));
    if (options.attachFirst) {
      report(`listening ${hub.path}`, false);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const attached = await Promise.race([
        hub.firstClient().then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 30_000))),
      ]);
      clearTimeout(timer);
      if (!attached) throw new EngineError(`Nobody attached to container "${id}"`);
    }
    const result = await superviseContainer(ctx, id, {
      hub,
      onStart: (pid) => reportFinal(`ok ${pid}`),
    });
    exitCode = result.exitCode;
  } catch (error) {
    reportFinal(`error ${exitCodeOf(error)} ${describeError(error).replace(/\n/g, " ")}`);
    exitCode = exitCodeOf(error);
  } finally {
    try {
      const record = ctx.containers.read(id);
      if (record.HostConfig.AutoRemove && !record.State.Running) {
        await deleteContainer(ctx.runtimeRoot, id, { force: true }).catch(() => {});
        Deno.removeSync(ctx.containers.path(id), { recursive: true });
      }
    } catch {
      // removed meanwhile (`rm -f`)
    }
    // An attached `run --rm` returns only once the container is gone, as Docker's does.
    await hub?.finish(exitCode);
    hub?.close();
  }
  return exitCode;
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
  try {
    Deno.removeSync(attachSocketPath(ctx.runRoot, record.Id));
  } catch {
    // none was left
  }
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
