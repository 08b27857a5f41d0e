/**
 * conmon supervises each detached container: the monitor podman and CRI-O
 * use, a small C program (~1 MB PSS) instead of a Deno per container. It runs
 * `berth runtime create` (berth is a runc-compatible runtime), holds the
 * container's stdio and pty, writes its log (the k8s-file format), serves the
 * attach socket and the resize fifo, reaps the container and writes its exit
 * code to `<run-root>/exits/<id>`, then runs `berth container __exited ID`,
 * which records the exit and applies the restart policy.
 *
 * Whoever sees the exit file first (that command, or any berth command that
 * reads the container, e.g. `stop` waiting for it) claims it by renaming it,
 * so an exit is recorded exactly once.
 *
 * @module
 */
import { containerEvent } from "./events.ts";
import { disconnectNetwork } from "./container_network.ts";
import { closeFd, pipe, readSync, setCloexec } from "../../ffi/fd.ts";
import { EngineError } from "../errors.ts";
import { deleteContainer } from "../runtime/mod.ts";
import { readState } from "../runtime/state.ts";
import { oomKilled } from "../runtime/cgroup.ts";
import {
  type ContainerRecord,
  type ContainerStore,
  markEnded,
  startTimeOf,
} from "./container_record.ts";
import { logFile, logSizeMax } from "./container_logs.ts";

/** Where conmon and the runtime keep a root's run-time files. */
export interface ConmonContext {
  containers: ContainerStore;
  /** argv that re-executes berth with its global flags (`--root`, `--run-root`). */
  berth: string[];
  /** The runtime's state directory. */
  runtimeRoot: string;
  /** berth's runtime state root (`--run-root`). */
  runRoot: string;
}

/** Environment variable naming the conmon binary to use. */
export const CONMON_ENV = "BERTH_CONMON";
const SEARCH = ["/usr/bin/conmon", "/usr/libexec/podman/conmon", "/usr/local/bin/conmon"];

/**
 * The conmon binary: `$BERTH_CONMON`, else the usual places, else `PATH`.
 * @param where where to look (the environment's by default)
 * @throws {EngineError} naming what is missing and how to get it
 */
export function findConmon(
  where: { given?: string | undefined; search?: string[]; path?: string | undefined } = {
    given: Deno.env.get(CONMON_ENV),
    search: SEARCH,
    path: Deno.env.get("PATH"),
  },
): string {
  const given = where.given;
  if (given) {
    if (isExecutable(given)) return given;
    throw new EngineError(`${CONMON_ENV}=${given} is not an executable file`);
  }
  const path = (where.path ?? "").split(":").filter((d) => d !== "");
  for (const candidate of [...(where.search ?? []), ...path.map((d) => `${d}/conmon`)]) {
    if (isExecutable(candidate)) return candidate;
  }
  throw new EngineError(
    "conmon is not installed: berth needs it to supervise detached containers " +
      `(install the "conmon" package, e.g. apt-get install conmon, or set ${CONMON_ENV})`,
  );
}

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** conmon's exit file of a container. */
export const exitFile = (runRoot: string, id: string): string => `${runRoot}/exits/${id}`;

/** The directory conmon puts a symlink to the bundle in, named by the container's short id. */
const socketDir = (runRoot: string): string => `${runRoot}/conmon`;

/** The attach socket conmon serves for a container (SOCK_SEQPACKET). */
export function conmonAttachPath(runRoot: string, id: string): string {
  return `${socketDir(runRoot)}/${id.slice(0, 24)}/attach`;
}

/** The fifo that resizes the container's pty: `1 ROWS COLS\n`. */
export const conmonControlPath = (bundle: string): string => `${bundle}/ctl`;

/** What {@linkcode launchConmon} started. */
export interface Launched {
  /** The container's init (created, waiting for start). */
  pid: number;
  /** conmon's pid, and its start time (as /proc/PID/stat has it). */
  monitor: { pid: number; startTime: string };
}

/**
 * Starts conmon for container `record`; it creates the container through
 * `berth runtime create`, which then waits to be started.
 * @throws {EngineError} with the runtime's error and exit code (126/127 for the command)
 */
export async function launchConmon(
  ctx: ConmonContext,
  record: ContainerRecord,
  conmon: string,
): Promise<Launched> {
  const id = record.Id;
  const dir = ctx.containers.path(id);
  const bundle = `${dir}/bundle`;
  const files = `${dir}/conmon`;
  Deno.mkdirSync(files, { recursive: true });
  Deno.mkdirSync(`${ctx.runRoot}/exits`, { recursive: true, mode: 0o700 });
  Deno.mkdirSync(socketDir(ctx.runRoot), { recursive: true, mode: 0o700 });
  for (const stale of [`${files}/pid`, `${files}/conmon.pid`, exitFile(ctx.runRoot, id)]) {
    removeIfThere(stale);
  }
  const [self, ...selfArgs] = ctx.berth;
  // GOption would read a value starting with "-" as an option: pass each as --opt=value.
  const runtimeArgs = [...selfArgs, "runtime"].map((a) => `--runtime-arg=${a}`);
  const exitArgs = [...selfArgs, "container", "__exited", id].map((a) => `--exit-command-arg=${a}`);
  const args = [
    "--api-version",
    "1",
    `--cid=${id}`,
    `--cuuid=${id.slice(0, 24)}`,
    `--name=${record.Name.replace(/^\//, "")}`,
    `--runtime=${self}`,
    ...runtimeArgs,
    `--bundle=${bundle}`,
    `--container-pidfile=${files}/pid`,
    `--conmon-pidfile=${files}/conmon.pid`,
    `--log-path=k8s-file:${logFile(dir, id)}`,
    ...logSizeArgs(record),
    `--exit-dir=${ctx.runRoot}/exits`,
    `--socket-dir-path=${socketDir(ctx.runRoot)}`,
    `--exit-command=${self}`,
    ...exitArgs,
    ...(record.Config.Tty ? ["--terminal"] : []),
    ...(record.Config.OpenStdin ? ["--stdin"] : []),
    // Docker closes stdin when the attached client goes only for a StdinOnce container
    // without a tty (its input ended); a terminal stays open for the next attach.
    ...(record.Config.OpenStdin && (record.Config.Tty || !record.Config.StdinOnce)
      ? ["--leave-stdin-open"]
      : []),
  ];
  // conmon reports `{"data": PID}` or `{"data": -1, "message": ...}` on this pipe.
  const [readEnd, writeEnd] = pipe();
  setCloexec(readEnd);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(conmon, {
      args,
      cwd: files,
      env: { _OCI_SYNCPIPE: String(writeEnd), BERTH_RUNTIME_STATUS_LINE: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (error) {
    closeFd(readEnd);
    throw new EngineError(`Cannot run conmon (${conmon})`, { cause: error });
  } finally {
    closeFd(writeEnd);
  }
  let report: string;
  try {
    report = readAll(readEnd);
  } finally {
    closeFd(readEnd);
  }
  // conmon's first process forks the monitor and exits at once.
  await child.status;
  const message = parseSyncMessage(report);
  if (message === undefined || message.data < 0) {
    await deleteContainer(ctx.runtimeRoot, id, { force: true }).catch(() => {});
    throw runtimeError(message?.message, id);
  }
  const monitorPid = Number(Deno.readTextFileSync(`${files}/conmon.pid`).trim());
  return {
    pid: message.data,
    monitor: { pid: monitorPid, startTime: startTimeOf(monitorPid) ?? "" },
  };
}

/** Reads one report line from conmon's pipe `fd` (blocking). */
export function readAll(fd: number): string {
  const decoder = new TextDecoder();
  const buf = new Uint8Array(8192);
  let text = "";
  // One report line is all conmon sends for a create.
  while (!text.includes("\n")) {
    const n = readSync(fd, buf);
    if (n <= 0) break;
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  return text + decoder.decode();
}

/** conmon's report line, `{"data": N}` or `{"data": -1, "message": ...}`. */
export function parseSyncMessage(text: string): { data: number; message?: string } | undefined {
  const line = text.split("\n").find((l) => l.trim() !== "");
  if (line === undefined) return undefined;
  try {
    const value = JSON.parse(line) as { data?: unknown; message?: unknown };
    if (typeof value.data !== "number") return undefined;
    return {
      data: value.data,
      ...(typeof value.message === "string" ? { message: value.message } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The runtime's `berth-error CODE MESSAGE` line as an error; anything else as it came. */
function runtimeError(message: string | undefined, id: string): EngineError {
  const m = /berth-error (\d+) (.*)/.exec(message ?? "");
  if (m !== null) return new EngineError(m[2]!.trim(), { exitCode: Number(m[1]) });
  const text = (message ?? "").trim();
  return new EngineError(
    text === ""
      ? `conmon could not create container "${id}" (it gave no reason)`
      : `conmon could not create container "${id}": ${text}`,
  );
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // not there
  }
}

/**
 * Claims container `id`'s exit file, if conmon wrote one and nobody claimed it yet.
 * @returns the exit code, or undefined when there is none to claim
 */
export function claimExit(runRoot: string, id: string): number | undefined {
  const file = exitFile(runRoot, id);
  const claimed = `${file}.${Deno.pid}`;
  try {
    Deno.renameSync(file, claimed);
  } catch {
    return undefined;
  }
  try {
    const code = Number.parseInt(Deno.readTextFileSync(claimed).trim(), 10);
    // conmon writes -1 when the status made no sense; Docker shows such an end as 255.
    return Number.isNaN(code) || code < 0 ? 255 : code;
  } finally {
    removeIfThere(claimed);
  }
}

/**
 * Records a claimed exit: the runtime's leftovers go, the state says exited
 * (or restarting, when the policy wants it back: `container __exited` then
 * restarts it), and a `--rm` container is removed.
 * @returns the record as written, or undefined once it is removed
 */
export async function recordExit(
  ctx: ConmonContext,
  id: string,
  exitCode: number,
  removeContainer: (id: string) => Promise<void>,
): Promise<ContainerRecord | undefined> {
  let oom = false;
  try {
    oom = oomKilled(readState(ctx.runtimeRoot, id).cgroup);
  } catch {
    // no runtime state left
  }
  await deleteContainer(ctx.runtimeRoot, id, { force: true }).catch(() => {});
  const dir = ctx.containers.path(id);
  for (const leftover of ["attach", "ctl", "winsz"]) removeIfThere(`${dir}/bundle/${leftover}`);
  removeIfThere(`${socketDir(ctx.runRoot)}/${id.slice(0, 24)}`);
  await disconnectNetwork(ctx.containers, id).catch(() => {});
  let record: ContainerRecord;
  try {
    record = ctx.containers.update(id, (r) => {
      if (!markEnded(r, exitCode, oom)) delete r.Monitor;
    });
  } catch {
    return undefined; // removed meanwhile (`rm -f`)
  }
  containerEvent(ctx.containers, "die", id, { exitCode: String(exitCode) });
  if (!record.State.Restarting && record.HostConfig.AutoRemove) {
    await removeContainer(id);
    return undefined;
  }
  return record;
}

/** `--log-opt max-size` as conmon's `--log-size-max` (see {@linkcode logSizeMax}). */
function logSizeArgs(record: ContainerRecord): string[] {
  const max = logSizeMax(record.HostConfig.LogConfig?.Config);
  return max === undefined ? [] : [`--log-size-max=${max}`];
}
