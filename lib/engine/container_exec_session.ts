/**
 * `exec -t` under conmon, as podman runs it: conmon's exec mode
 * (`--exec --exec-process-spec FILE --exec-attach`) runs `berth runtime exec
 * --detach`, holds the process's pty, serves an attach socket and writes the
 * exit code. The caller attaches to that socket (a {@linkcode AttachClient}),
 * so it can detach (Ctrl-P Ctrl-Q) and leave the process running, supervised
 * by conmon until it ends or the container stops.
 *
 * Each session has a directory in the container's (removed with it):
 * `exec/<id>/` holds the process spec, conmon's pid files, its resize fifo
 * (`ctl`) and the exit file (`exit/<container-id>`).
 *
 * @module
 */
import { closeFd, pipe, setCloexec, writeAll } from "../../ffi/fd.ts";
import { EngineError } from "../errors.ts";
import { pathExists } from "../store/mod.ts";
import type { Process } from "../runtime/spec.ts";
import { AttachClient } from "./container_attach.ts";
import { conmonAttachPath, findConmon, parseSyncMessage, readAll } from "./container_conmon.ts";
import { type ContainerRecord, startTimeOf } from "./container_record.ts";
import type { ExecContext, ExecProcess } from "./container_exec.ts";

/** An exec session that conmon supervises, with a client attached to it. */
export interface ExecSession {
  /** The attached client (see attachSession in lib/cli). */
  client: AttachClient;
  /** The exec'd process's host pid. */
  pid: number;
  /** Removes the session's files once it has ended (a no-op while it runs). */
  dispose(): void;
}

/** What a session needs besides {@linkcode ExecContext}. */
export interface SessionContext extends ExecContext {
  /** berth's runtime state root (`--run-root`). */
  runRoot: string;
}

/**
 * Starts `process` (with a terminal) in `record`'s running container under
 * conmon and attaches to it before it runs, so no output is lost.
 * @param user the resolved user, if one was given
 * @throws {EngineError} the runtime's error, with its exit code (126/127 for the command)
 */
export async function startExecSession(
  ctx: SessionContext,
  record: ContainerRecord,
  process: ExecProcess,
  user: { uid: number; gid: number; additionalGids: number[] } | undefined,
  consoleSize: { rows: number; cols: number } | undefined,
): Promise<ExecSession> {
  const conmon = findConmon();
  const id = [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  sweepEnded(`${ctx.containerDir}/exec`, record.Id, `${ctx.runRoot}/conmon`);
  const dir = `${ctx.containerDir}/exec/${id}`;
  Deno.mkdirSync(`${dir}/exit`, { recursive: true, mode: 0o700 });
  const socketDir = `${ctx.runRoot}/conmon`;
  Deno.mkdirSync(socketDir, { recursive: true, mode: 0o700 });

  const base = (JSON.parse(Deno.readTextFileSync(`${ctx.containerDir}/bundle/config.json`)) as {
    process: Process;
  }).process;
  const spec: Process = {
    ...base,
    args: process.args,
    env: [...(base.env ?? []), ...(process.env ?? [])],
    cwd: process.workdir ?? base.cwd,
    user: user ?? base.user,
    terminal: true,
    ...(consoleSize ? { consoleSize: { height: consoleSize.rows, width: consoleSize.cols } } : {}),
  };
  Deno.writeTextFileSync(`${dir}/process.json`, JSON.stringify(spec), { mode: 0o600 });

  const [self, ...selfArgs] = ctx.self;
  const berthArgs = [...selfArgs, "--root", ctx.store.root, "--run-root", ctx.runRoot];
  const args = [
    "--api-version",
    "1",
    `--cid=${record.Id}`,
    `--cuuid=${id.slice(0, 24)}`,
    `--name=${record.Name.replace(/^\//, "")}`,
    `--runtime=${self}`,
    // GOption would read a value starting with "-" as an option: each as --opt=value.
    ...[...berthArgs, "runtime"].map((a) => `--runtime-arg=${a}`),
    ...(process.privileged ? ["--runtime-opt=--privileged"] : []),
    `--bundle=${dir}`,
    `--container-pidfile=${dir}/pid`,
    `--conmon-pidfile=${dir}/conmon.pid`,
    "--log-path=none:",
    `--exit-dir=${dir}/exit`,
    `--socket-dir-path=${socketDir}`,
    "--exec",
    `--exec-process-spec=${dir}/process.json`,
    "--exec-attach",
    "--terminal",
    ...(process.interactive ? ["--stdin", "--leave-stdin-open"] : []),
  ];
  // conmon reads the start pipe twice (before it forks, and before it runs the runtime: by then
  // the client is attached), says on the attach pipe that its socket listens, and reports the
  // process's pid (or the runtime's error) on the sync pipe.
  const [syncRead, syncWrite] = pipe();
  const [startRead, startWrite] = pipe();
  const [attachRead, attachWrite] = pipe();
  for (const fd of [syncRead, startWrite, attachRead]) setCloexec(fd);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(conmon, {
      args,
      cwd: dir,
      env: {
        _OCI_SYNCPIPE: String(syncWrite),
        _OCI_STARTPIPE: String(startRead),
        _OCI_ATTACHPIPE: String(attachWrite),
        BERTH_RUNTIME_STATUS_LINE: "1",
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (error) {
    for (const fd of [syncRead, startWrite, attachRead]) closeFd(fd);
    throw new EngineError(`Cannot run conmon (${conmon})`, { cause: error });
  } finally {
    for (const fd of [syncWrite, startRead, attachWrite]) closeFd(fd);
  }
  let client: AttachClient | undefined;
  try {
    writeAll(startWrite, new Uint8Array([0]));
    // conmon's first process forks the monitor and exits at once.
    await child.status;
    const ready = parseSyncMessage(readAll(attachRead));
    if (ready === undefined || ready.data < 0) {
      throw new EngineError(`conmon could not set up the exec session: ${ready?.message ?? ""}`);
    }
    const exitPath = `${dir}/exit/${record.Id}`;
    const monitorPid = Number(Deno.readTextFileSync(`${dir}/conmon.pid`).trim());
    const monitorStart = startTimeOf(monitorPid);
    client = AttachClient.connectConmon(conmonAttachPath(ctx.runRoot, id), {
      bundle: dir,
      exit: () => waitForExitFile(exitPath, monitorPid, monitorStart),
    });
    writeAll(startWrite, new Uint8Array([0]));
    const report = parseSyncMessage(readAll(syncRead));
    if (report === undefined || report.data < 0) throw runtimeError(report?.message);
    const session = client;
    return {
      client: session,
      pid: report.data,
      dispose: () => {
        if (!pathExists(exitPath)) return;
        removeTree(dir);
        removeTree(`${socketDir}/${id.slice(0, 24)}`); // conmon's attach socket directory
      },
    };
  } catch (error) {
    client?.close();
    removeTree(dir);
    removeTree(`${socketDir}/${id.slice(0, 24)}`);
    throw error;
  } finally {
    for (const fd of [syncRead, startWrite, attachRead]) closeFd(fd);
  }
}

/** The runtime's `berth-error CODE MESSAGE` line as an error (see `runtime exec`). */
function runtimeError(message: string | undefined): EngineError {
  const m = /berth-error (\d+) (.*)/s.exec(message ?? "");
  if (m !== null) return new EngineError(m[2]!.trim(), { exitCode: Number(m[1]) });
  const text = (message ?? "").trim();
  return new EngineError(`conmon could not start the exec session${text ? `: ${text}` : ""}`);
}

/**
 * Waits for conmon's exit file; undefined once conmon is gone without one.
 * conmon closes the attach socket just before it writes the file.
 */
async function waitForExitFile(
  path: string,
  monitorPid: number,
  monitorStart: string | undefined,
): Promise<number | undefined> {
  for (let delay = 2;; delay = Math.min(delay * 2, 50)) {
    const code = readExit(path);
    if (code !== undefined) return code;
    if (startTimeOf(monitorPid) !== monitorStart || monitorStart === undefined) {
      return readExit(path);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

function readExit(path: string): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path).trim();
  } catch {
    return undefined;
  }
  const code = Number.parseInt(text, 10);
  // conmon writes -1 when the status made no sense; Docker shows such an end as 255.
  return Number.isNaN(code) || code < 0 ? 255 : code;
}

/**
 * When a container is removed: the attach socket directories of its exec
 * sessions (which live under the run root, not in the container's directory).
 */
export function removeSessionSockets(containerDir: string, runRoot: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`${containerDir}/exec`)];
  } catch {
    return;
  }
  for (const e of entries) removeTree(`${runRoot}/conmon/${e.name.slice(0, 24)}`);
}

/**
 * Removes the directories of sessions that ended (a detached one leaves its
 * files behind), and their conmon attach socket directories under `socketDir`.
 */
function sweepEnded(execDir: string, containerId: string, socketDir: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(execDir)];
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.isDirectory && pathExists(`${execDir}/${e.name}/exit/${containerId}`)) {
      removeTree(`${execDir}/${e.name}`);
      removeTree(`${socketDir}/${e.name.slice(0, 24)}`);
    }
  }
}

function removeTree(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch {
    // gone already
  }
}
