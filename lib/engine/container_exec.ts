/**
 * `exec`: a process joins a running container, with the container's security
 * defaults brought up to date first.
 *
 * The exec's init (a Deno start, ~20 ms) is spawned as soon as the
 * container's pid is known; the user lookup, the security defaults and the
 * modules that wait for the process are done and loaded while it boots.
 * This module loads little for that reason: the records, the store and the
 * runtime's spawn only.
 *
 * @module
 */
import { ConflictError, EngineError, EXIT_NOT_EXECUTABLE } from "../errors.ts";
import type { ConsoleEnds } from "../runtime/console.ts";
import type { Container, ExitResult } from "../runtime/container.ts";
import { startExec } from "../runtime/exec.ts";
import { openStore, type Store } from "../store/mod.ts";
import { type ContainerRecord, ContainerStore, needsReconcile } from "./container_record.ts";
import type { AttachIO } from "./container_supervise.ts";
import { resolveUser } from "./container_user.ts";
import { hasCurrentSecurityDefaults } from "./security_stamp.ts";

/** The process `exec` runs. */
export interface ExecProcess {
  args: string[];
  env?: string[];
  user?: string;
  workdir?: string;
  tty?: boolean;
  interactive?: boolean;
  /** Leave it running in the background (`exec -d`); resolves at once with exit code 0. */
  detach?: boolean;
  /** Every capability, no seccomp filter (`exec --privileged`). */
  privileged?: boolean;
}

/** Where an exec's I/O goes. */
export interface ExecIO {
  stdin?: ReadableStream<Uint8Array>;
  output?: AttachIO["output"];
  console?: ConsoleEnds;
  /** Kills the process (SIGKILL) when it aborts: a health check past its timeout. */
  signal?: AbortSignal;
}

/** What exec needs to know about berth. */
export interface ExecContext {
  store: Store;
  /** The container's directory (its config.json and bundle). */
  containerDir: string;
  /** The runtime's state directory. */
  runtimeRoot: string;
  /** argv that re-executes berth. */
  self: string[];
}

/**
 * `exec` for a front end: finds container `given` (name or ID prefix) under
 * the store `root` and runs `process` in it, loading no more of the engine
 * than that needs: the container service (and its reconcile, as
 * ContainerReader does) only for a record whose monitor is gone.
 * @throws {NotFoundError} no such container; {ConflictError} not running
 */
export async function execByName(
  options: { root: string; runRoot: string; self: string[] },
  given: string,
  process: ExecProcess,
  io: ExecIO = {},
): Promise<ExitResult> {
  const { ctx, record } = await findRunning(options, given);
  return await execInRunning(ctx, record, process, io);
}

/**
 * `exec -t` for a front end that attaches to it: like {@linkcode execByName},
 * but the process runs under conmon (see container_exec_session.ts), so the
 * client may detach and leave it running.
 * @param consoleSize the terminal's size, set before the process runs
 * @throws {NotFoundError} no such container; {ConflictError} not running;
 *   {ExecStartError} the process could not start
 */
export async function execSessionByName(
  options: { root: string; runRoot: string; self: string[] },
  given: string,
  process: ExecProcess,
  consoleSize?: { rows: number; cols: number },
): Promise<import("./container_exec_session.ts").ExecSession> {
  const { ctx, record } = await findRunning(options, given);
  if (!record.State.Running) throw new ConflictError(`Container ${record.Id} is not running`);
  const { startExecSession } = await import("./container_exec_session.ts");
  const user = await prepare(ctx, record, process);
  return await startExecSession(
    { ...ctx, runRoot: options.runRoot },
    record,
    process,
    user,
    consoleSize,
  )
    .catch((error) => {
      throw startError(error, false) ?? error;
    });
}

async function findRunning(
  options: { root: string; runRoot: string; self: string[] },
  given: string,
): Promise<{ ctx: ExecContext; record: ContainerRecord }> {
  // A laid-out store as it is: exec writes no more than a refreshed config.json.
  const store = openStore(options.root, { reading: true });
  const records = new ContainerStore(store.root, store.tmpDir);
  let record = records.resolve(given);
  if (needsReconcile(record)) {
    // Its monitor is gone: the container service notices (and revives, by its restart policy).
    const { ContainerService } = await import("./containers.ts");
    record = await new ContainerService(store, options).get(record.Id);
  }
  const ctx = {
    store,
    containerDir: records.path(record.Id),
    runtimeRoot: `${options.runRoot}/runtime`,
    self: options.self,
  };
  return { ctx, record };
}

/**
 * The user `process` runs as, resolved in the container's image, and the
 * container's security defaults brought up to date (exec takes its
 * capabilities and profile: an older berth's are out of date).
 */
async function prepare(
  ctx: ExecContext,
  record: ContainerRecord,
  process: ExecProcess,
): Promise<{ uid: number; gid: number; additionalGids: number[] } | undefined> {
  const layers = record.Layers.slice().reverse().map((c) =>
    ctx.store.layers.diffPath(c as `sha256:${string}`)
  );
  let user;
  try {
    user = process.user === undefined ? undefined : resolveUser(process.user, layers);
  } catch (error) {
    // docker's exec reports a user it cannot find as the process's failure to start.
    if (error instanceof EngineError && !process.detach) {
      throw new ExecStartError(error.message, error);
    }
    throw error;
  }
  if (
    !hasCurrentSecurityDefaults(Deno.readTextFileSync(`${ctx.containerDir}/bundle/config.json`))
  ) {
    const { refreshSecurityDefaults } = await import("./container_create.ts");
    refreshSecurityDefaults(record, ctx.containerDir, ctx.store.tmpDir);
  }
  return user === undefined
    ? undefined
    : { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids };
}

/**
 * Runs `process` in `record`'s container, which must be running.
 * @throws {ConflictError} when it is not running
 */
export async function execInRunning(
  ctx: ExecContext,
  record: ContainerRecord,
  process: ExecProcess,
  io: ExecIO = {},
): Promise<ExitResult> {
  if (!record.State.Running) throw new ConflictError(`Container ${record.Id} is not running`);
  const pending = startExec(ctx.runtimeRoot, record.Id, {
    self: ctx.self,
    stdio: process.tty || process.detach
      ? { stdin: "null", stdout: "null", stderr: "null" }
      : { stdin: io.stdin ? "piped" : "null", stdout: "piped", stderr: "piped" },
    pdeathsig: !process.detach,
    terminal: process.tty ?? false,
  });
  // While the exec's init boots: Deno loads its timer code at the first timer (~5 ms), and the
  // exit may come a moment before the end of its output, which then waits on a timer.
  clearTimeout(setTimeout(() => {}, 0));
  const loaded = Promise.all([
    import("../runtime/wait.ts"),
    process.tty ? import("../runtime/console.ts") : undefined,
  ]);
  let container;
  try {
    const user = await prepare(ctx, record, process);
    container = await pending.run({
      args: process.args,
      ...(process.env ? { extraEnv: process.env } : {}),
      ...(process.workdir ? { cwd: process.workdir } : {}),
      ...(user ? { user } : {}),
      terminal: process.tty ?? false,
      ...(process.privileged ? { privileged: true } : {}),
    }).catch((error) => {
      throw startError(error, process.detach === true) ?? error;
    });
  } catch (error) {
    await pending.discard();
    throw error;
  }
  return await follow(container, process, io, await loaded);
}

/**
 * A process that `exec` could not start (no such command or user, not
 * executable, no such working directory): docker's 126, whatever the cause,
 * in its words. The CLI prints it on stdout, as docker does.
 */
export class ExecStartError extends EngineError {
  constructor(message: string, cause: unknown) {
    super(message, { exitCode: EXIT_NOT_EXECUTABLE, cause });
  }
}

/**
 * The error for an init's report that the process could not start, if it is
 * one: an ExecStartError, or for `exec -d` (whose start docker's daemon
 * reports) an error of exit status 1.
 */
function startError(error: unknown, detach: boolean): EngineError | undefined {
  if (!(error instanceof EngineError)) return undefined;
  let detail: string | undefined;
  // The command's lookup (126/127) and the working directory are the process's own failures.
  if (error.message.startsWith("exec: ")) detail = error.message;
  const cwd = /^chdir "(.*)": [A-Z]+ \((.*)\)$/.exec(error.message);
  if (cwd !== null) {
    detail = `chdir to cwd ("${cwd[1]}") set in config.json failed: ${cwd[2]!.toLowerCase()}`;
  }
  if (detail === undefined) return undefined;
  const message =
    `OCI runtime exec failed: exec failed: unable to start container process: ${detail}: unknown`;
  return detach
    ? new EngineError(message, { exitCode: 1, cause: error })
    : new ExecStartError(message, error);
}

/** Copies the exec'd process's I/O until it exits; at once for `exec -d`. */
async function follow(
  container: Container,
  process: ExecProcess,
  io: ExecIO,
  [{ waitContainer }, console]: [
    typeof import("../runtime/wait.ts"),
    typeof import("../runtime/console.ts") | undefined,
  ],
): Promise<ExitResult> {
  if (process.detach) {
    // It lives on after this process: nothing waits for it but the container's end.
    container.child.unref();
    return { exitCode: 0, oomKilled: false };
  }
  // Counted where each copy ends, so that a drained output is seen as soon as the exit is.
  let open = 0;
  const track = async (copy: () => Promise<void>) => {
    open++;
    try {
      await copy();
    } catch {
      // the reader went away
    } finally {
      open--;
    }
  };
  const pumps: Promise<void>[] = [];
  if (container.console !== undefined && console !== undefined) {
    const ends = io.console ?? { read: () => new Promise<null>(() => {}), write: () => {} };
    const master = container.console;
    pumps.push(track(() => console.copyConsole(master, ends)));
  } else {
    const pump = (s: ReadableStream<Uint8Array>, name: "stdout" | "stderr") =>
      track(async () => {
        for await (const chunk of s) io.output?.(name, chunk);
      });
    pumps.push(pump(container.child.stdout, "stdout"), pump(container.child.stderr, "stderr"));
    if (io.stdin) io.stdin.pipeTo(container.child.stdin).catch(() => {});
  }
  const kill = () => {
    try {
      container.child.kill("SIGKILL");
    } catch {
      // it ended
    }
  };
  if (io.signal?.aborted) kill();
  io.signal?.addEventListener("abort", kill, { once: true });
  const result = await waitContainer(container);
  io.signal?.removeEventListener("abort", kill);
  if (open > 0) {
    // Output a process left behind (a background child holding the pipe) is not waited for long.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(pumps), new Promise((r) => timer = setTimeout(r, 2000))]);
    clearTimeout(timer);
  }
  return result;
}
