/**
 * `exec`: a process joins a running container, with the container's security
 * defaults brought up to date first.
 *
 * @module
 */
import { ConflictError } from "../errors.ts";
import {
  type ConsoleEnds,
  copyConsole,
  execInContainer,
  type ExitResult,
  waitContainer,
} from "../runtime/mod.ts";
import type { Store } from "../store/mod.ts";
import { refreshSecurityDefaults } from "./container_create.ts";
import type { ContainerRecord } from "./container_record.ts";
import type { AttachIO } from "./container_supervise.ts";
import { resolveUser } from "./container_user.ts";

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
}

/** Where an exec's I/O goes. */
export interface ExecIO {
  stdin?: ReadableStream<Uint8Array>;
  output?: AttachIO["output"];
  console?: ConsoleEnds;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  const layers = record.Layers.slice().reverse().map((c) =>
    ctx.store.layers.diffPath(c as `sha256:${string}`)
  );
  const user = process.user === undefined ? undefined : resolveUser(process.user, layers);
  // exec takes the container's capabilities and profile: an older berth's are out of date.
  refreshSecurityDefaults(record, ctx.containerDir, ctx.store.tmpDir);
  const container = await execInContainer(ctx.runtimeRoot, record.Id, {
    args: process.args,
    ...(process.env ? { extraEnv: process.env } : {}),
    ...(process.workdir ? { cwd: process.workdir } : {}),
    ...(user
      ? { user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids } }
      : {}),
    terminal: process.tty ?? false,
  }, {
    self: ctx.self,
    stdio: process.tty || process.detach
      ? { stdin: "null", stdout: "null", stderr: "null" }
      : { stdin: io.stdin ? "piped" : "null", stdout: "piped", stderr: "piped" },
    pdeathsig: !process.detach,
  });
  if (process.detach) {
    // It lives on after this process: nothing waits for it but the container's end.
    container.child.unref();
    return { exitCode: 0, oomKilled: false };
  }
  const pumps: Promise<void>[] = [];
  if (container.console !== undefined) {
    const ends = io.console ?? { read: () => new Promise<null>(() => {}), write: () => {} };
    pumps.push(copyConsole(container.console, ends));
  } else {
    const pump = async (s: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
      for await (const chunk of s) io.output?.(name, chunk);
    };
    pumps.push(pump(container.child.stdout, "stdout"), pump(container.child.stderr, "stderr"));
    if (io.stdin) io.stdin.pipeTo(container.child.stdin).catch(() => {});
  }
  const result = await waitContainer(container);
  await Promise.race([Promise.all(pumps).catch(() => {}), sleep(2000)]);
  return result;
}
