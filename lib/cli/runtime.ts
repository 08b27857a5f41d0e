/**
 * `berth runtime ...`: the OCI runtime as a runc-like command (run, create,
 * start, state, kill, delete, list) and the hidden `__init` mode that a
 * container's init re-executes berth in.
 *
 * @module
 */
import {
  closeConsole,
  containerPids,
  containerState,
  copyConsole,
  createContainer,
  deleteContainer,
  execInContainer,
  INIT_ENV,
  killContainer,
  listContainers,
  parseSignal,
  pauseContainer,
  rawTerminal,
  resizeConsole,
  resumeContainer,
  startContainer,
  terminalSize,
  waitContainer,
} from "../runtime/mod.ts";
import { describeError, EngineError, EXIT_ENGINE, UsageError } from "../errors.ts";
import { closeFd } from "../../ffi/fd.ts";
import { connectUnix, sendFd, SOCK_STREAM } from "../../ffi/socket.ts";
import { bool, type Command, type Context, list as listFlag, str } from "./_command.ts";
import type { FlagSpec } from "./_args.ts";
import type { ExecProcess } from "../runtime/exec.ts";
import type { Process } from "../runtime/spec.ts";

const ROOT: FlagSpec = {
  name: "root",
  type: "string",
  value: "DIR",
  description: "State root (default <run-root>/runtime)",
};
const BUNDLE: FlagSpec = {
  name: "bundle",
  short: "b",
  type: "string",
  value: "DIR",
  description: "Bundle directory",
  default: ".",
};
const PID_FILE: FlagSpec = {
  name: "pid-file",
  type: "string",
  value: "FILE",
  description: "Write the container's pid to FILE",
};

const stateRoot = (ctx: Context, flags: Record<string, unknown>) =>
  str(flags as never, "root") ?? `${ctx.runRoot}/runtime`;

/** Prints a failed poststart/poststop hook as a warning, as runc logs it; the command goes on. */
const warn = (ctx: Context) => (message: string) => ctx.printErr(`Warning: ${message}\n`);

/** Raw mode, window size (now and on SIGWINCH) and copying; returns the undo and the copy's end. */
function attachTerminal(master: number): { detach: () => void; done: Promise<void> } {
  const restore = rawTerminal(0);
  const resize = () => {
    const size = terminalSize(0) ?? terminalSize(1);
    if (size !== undefined) resizeConsole(master, size);
  };
  resize();
  Deno.addSignalListener("SIGWINCH", resize);
  const done = copyConsole(master, {
    read: (buf) => Deno.stdin.read(buf),
    write: (bytes) => {
      for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
    },
  });
  const detach = () => {
    Deno.removeSignalListener("SIGWINCH", resize);
    restore();
  };
  return { detach, done };
}

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** `runtime run`: create, start and wait in the foreground; exits with the container's status. */
export const run: Command = {
  usage: "[OPTIONS] ID",
  summary: "Run a container from an OCI bundle in the foreground",
  flags: [BUNDLE, ROOT, PID_FILE],
  args: { min: 1, max: 1 },
  async run(ctx, flags, [id]) {
    const root = stateRoot(ctx, flags);
    const pidFile = str(flags, "pid-file");
    const c = await createContainer(str(flags, "bundle") ?? ".", id!, {
      self: ctx.self,
      stateRoot: root,
      pdeathsig: true,
      ...(pidFile ? { pidFile } : {}),
    });
    const handlers = FORWARDED.map((sig) => [sig, () => c.child.kill(sig)] as const);
    for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
    const term = c.console === undefined ? undefined : attachTerminal(c.console);
    try {
      await startContainer(c, { onWarning: warn(ctx) });
      const result = await waitContainer(c);
      await term?.done;
      if (c.console !== undefined) closeConsole(c.console);
      return result.exitCode;
    } finally {
      term?.detach();
      for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
      await deleteContainer(root, id!, { force: true, onWarning: warn(ctx) });
    }
  },
};

/** Parses `-u uid[:gid]` (numeric only at this level). */
function parseUser(value: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(value);
  if (m === null) throw new UsageError(`Invalid user "${value}": use UID[:GID]`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

/** `runtime exec`: run a process in a running container, in the foreground or detached. */
export const exec: Command = {
  usage: "[OPTIONS] ID [COMMAND [ARG...]]",
  summary: "Run a process in a running container",
  flags: [
    ROOT,
    PID_FILE,
    { name: "tty", short: "t", type: "bool", description: "Allocate a pseudo-TTY" },
    {
      name: "env",
      short: "e",
      type: "list",
      value: "KEY=VALUE",
      description: "Add an environment variable",
    },
    { name: "cwd", short: "w", type: "string", value: "DIR", description: "Working directory" },
    { name: "user", short: "u", type: "string", value: "UID[:GID]", description: "User to run as" },
    {
      name: "process",
      short: "p",
      type: "string",
      value: "FILE",
      description: "The process to run, as a runtime-spec process JSON (instead of COMMAND)",
    },
    {
      name: "detach",
      short: "d",
      type: "bool",
      description: "Return once the process runs; it keeps this process's stdio",
    },
    {
      name: "console-socket",
      type: "string",
      value: "PATH",
      description: "Send the pty master of a terminal process to this unix socket",
    },
    {
      name: "privileged",
      type: "bool",
      description: "Every capability of the bounding set, no seccomp filter (berth's)",
    },
  ],
  args: { min: 1 },
  stopAtPositional: true,
  async run(ctx, flags, [id, ...args]) {
    try {
      return await execForCaller(ctx, flags, id!, args);
    } catch (error) {
      if (Deno.env.get(STATUS_LINE_ENV) !== "1") throw error;
      const code = error instanceof EngineError ? error.exitCode : EXIT_ENGINE;
      ctx.printErr(`berth-error ${code} ${describeError(error).replace(/\n/g, " ")}\n`);
      return code;
    }
  },
};

/** The process of `runtime exec --process FILE` (runc's: a runtime-spec `process`). */
function processFromFile(path: string): ExecProcess {
  const p = JSON.parse(Deno.readTextFileSync(path)) as Partial<Process>;
  if (!Array.isArray(p.args) || p.args.length === 0) {
    throw new UsageError(`${path}: "args" must name the command`);
  }
  return {
    args: p.args,
    ...(p.env ? { env: p.env } : {}),
    ...(p.cwd ? { cwd: p.cwd } : {}),
    ...(p.user ? { user: p.user } : {}),
    terminal: p.terminal ?? false,
    ...(p.consoleSize ? { consoleSize: p.consoleSize } : {}),
    ...(p.capabilities ? { capabilities: p.capabilities } : {}),
  };
}

async function execForCaller(
  ctx: Context,
  flags: Record<string, unknown>,
  id: string,
  args: string[],
): Promise<number> {
  const f = flags as never;
  const file = str(f, "process");
  if ((file === undefined) === (args.length === 0)) {
    throw new UsageError("runtime exec takes a COMMAND or --process FILE (one of them)");
  }
  const detach = bool(f, "detach");
  const user = str(f, "user");
  const cwd = str(f, "cwd");
  const extraEnv = listFlag(f, "env");
  let process: ExecProcess;
  if (file !== undefined) {
    process = processFromFile(file);
    if (extraEnv.length > 0) process.extraEnv = extraEnv;
  } else {
    const size = bool(f, "tty") ? terminalSize(0) ?? terminalSize(1) : undefined;
    process = {
      args,
      extraEnv,
      terminal: bool(f, "tty"),
      ...(size ? { consoleSize: { height: size.rows, width: size.cols } } : {}),
    };
  }
  if (user) process.user = parseUser(user);
  if (cwd) process.cwd = cwd;
  if (bool(f, "privileged")) process.privileged = true;
  const consoleSocket = str(f, "console-socket");
  if (process.terminal && detach && consoleSocket === undefined) {
    throw new UsageError(`a detached terminal process needs --console-socket`);
  }
  // Detached, the process keeps this one's stdio (conmon's pipes) and outlives it.
  const e = await execInContainer(stateRoot(ctx, flags), id, process, {
    self: ctx.self,
    ...(detach ? { pdeathsig: false } : {}),
  });
  if (detach) {
    try {
      const pidFile = str(f, "pid-file");
      if (pidFile) Deno.writeTextFileSync(pidFile, String(e.pid));
      if (e.console !== undefined) {
        const sock = connectUnix(consoleSocket!, SOCK_STREAM);
        try {
          sendFd(sock, e.console, "/dev/ptmx");
        } finally {
          closeFd(sock);
        }
      }
    } catch (error) {
      e.child.kill("SIGKILL");
      await e.child.status.catch(() => {});
      throw error;
    } finally {
      if (e.console !== undefined) closeConsole(e.console);
    }
    e.child.unref();
    return 0;
  }
  const handlers = FORWARDED.map((sig) => [sig, () => e.child.kill(sig)] as const);
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  const term = e.console === undefined ? undefined : attachTerminal(e.console);
  try {
    const result = await waitContainer(e);
    await term?.done;
    return result.exitCode;
  } finally {
    term?.detach();
    if (e.console !== undefined) closeConsole(e.console);
    for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  }
}

/**
 * Set by berth when conmon runs `runtime create` for it: a failure is then
 * printed as `berth-error CODE MESSAGE`, since conmon passes the runtime's
 * stderr on but not its exit status (126/127 tell a missing command apart).
 */
export const STATUS_LINE_ENV = "BERTH_RUNTIME_STATUS_LINE";

/** `runtime create` */
export const create: Command = {
  usage: "[OPTIONS] ID",
  summary: "Create a container that waits for start",
  flags: [BUNDLE, ROOT, PID_FILE, {
    name: "console-socket",
    type: "string",
    value: "PATH",
    description: "Send the pty master of a process.terminal container to this unix socket",
  }, {
    name: "no-pivot",
    type: "bool",
    description: "Not supported: the root is always changed with pivot_root",
  }, {
    name: "no-new-keyring",
    type: "bool",
    description: "Keep the caller's session keyring (not supported: a new one is always made)",
  }],
  args: { min: 1, max: 1 },
  async run(ctx, flags, [id]) {
    try {
      return await createForCaller(ctx, flags, id!);
    } catch (error) {
      if (Deno.env.get(STATUS_LINE_ENV) !== "1") throw error;
      const code = error instanceof EngineError ? error.exitCode : EXIT_ENGINE;
      ctx.printErr(`berth-error ${code} ${describeError(error).replace(/\n/g, " ")}\n`);
      return code;
    }
  },
};

async function createForCaller(
  ctx: Context,
  flags: Record<string, unknown>,
  id: string,
): Promise<number> {
  if (bool(flags as never, "no-pivot") || bool(flags as never, "no-new-keyring")) {
    throw new UsageError(
      "--no-pivot and --no-new-keyring are not supported: berth always uses pivot_root and a new session keyring",
    );
  }
  const consoleSocket = str(flags as never, "console-socket");
  const pidFile = str(flags as never, "pid-file");
  const c = await createContainer(str(flags as never, "bundle") ?? ".", id, {
    self: ctx.self,
    stateRoot: stateRoot(ctx, flags),
    ...(pidFile ? { pidFile } : {}),
  });
  try {
    if (c.console !== undefined) {
      if (consoleSocket === undefined) {
        throw new UsageError(`"process.terminal" needs --console-socket (or "berth runtime run")`);
      }
      const sock = connectUnix(consoleSocket, SOCK_STREAM);
      try {
        sendFd(sock, c.console, "/dev/ptmx");
      } finally {
        closeFd(sock);
      }
    }
  } catch (error) {
    c.child.kill("SIGKILL");
    await c.child.status.catch(() => {});
    await deleteContainer(stateRoot(ctx, flags), id, { force: true }).catch(() => {});
    throw error;
  } finally {
    if (c.console !== undefined) closeConsole(c.console);
  }
  c.status?.close();
  c.child.unref();
  return 0;
}

/** `runtime start` */
export const start: Command = {
  usage: "[OPTIONS] ID",
  summary: "Start a created container",
  flags: [ROOT],
  args: { min: 1, max: 1 },
  async run(ctx, flags, [id]) {
    await startContainer({ stateRoot: stateRoot(ctx, flags), id: id! }, {
      onWarning: warn(ctx),
    });
    return 0;
  },
};

/** `runtime state` */
export const state: Command = {
  usage: "[OPTIONS] ID",
  summary: "Print a container's state as runtime-spec JSON",
  flags: [ROOT],
  args: { min: 1, max: 1 },
  run(ctx, flags, [id]) {
    ctx.print(`${JSON.stringify(containerState(stateRoot(ctx, flags), id!), null, 2)}\n`);
    return Promise.resolve(0);
  },
};

/** `runtime kill` */
export const kill: Command = {
  usage: "[OPTIONS] ID [SIGNAL]",
  summary: "Send a signal to a container's process",
  flags: [ROOT],
  args: { min: 1, max: 2 },
  run(ctx, flags, [id, signal]) {
    killContainer(stateRoot(ctx, flags), id!, parseSignal(signal ?? "SIGTERM"));
    return Promise.resolve(0);
  },
};

/** `runtime delete` */
export const remove: Command = {
  usage: "[OPTIONS] ID",
  summary: "Delete a container's cgroup and state",
  flags: [ROOT, {
    name: "force",
    short: "f",
    type: "bool",
    description: "Kill it first if it runs",
  }],
  args: { min: 1, max: 1 },
  async run(ctx, flags, [id]) {
    await deleteContainer(stateRoot(ctx, flags), id!, {
      force: bool(flags, "force"),
      onWarning: warn(ctx),
    });
    return 0;
  },
};

/** `runtime pause` */
export const pause: Command = {
  usage: "[OPTIONS] ID",
  summary: "Freeze every process of a container",
  flags: [ROOT],
  args: { min: 1, max: 1 },
  async run(ctx, flags, [id]) {
    await pauseContainer(stateRoot(ctx, flags), id!);
    return 0;
  },
};

/** `runtime resume` */
export const resume: Command = {
  usage: "[OPTIONS] ID",
  summary: "Thaw a paused container",
  flags: [ROOT],
  args: { min: 1, max: 1 },
  async run(ctx, flags, [id]) {
    await resumeContainer(stateRoot(ctx, flags), id!);
    return 0;
  },
};

/** `runtime ps` */
export const ps: Command = {
  usage: "[OPTIONS] ID",
  summary: "List a container's processes (host pids)",
  flags: [ROOT],
  args: { min: 1, max: 1 },
  run(ctx, flags, [id]) {
    for (const pid of containerPids(stateRoot(ctx, flags), id!)) ctx.print(`${pid}\n`);
    return Promise.resolve(0);
  },
};

/** `runtime list` */
export const list: Command = {
  usage: "[OPTIONS]",
  summary: "List containers",
  flags: [ROOT, { name: "quiet", short: "q", type: "bool", description: "Only print ids" }],
  args: { max: 0 },
  run(ctx, flags) {
    const states = listContainers(stateRoot(ctx, flags));
    if (bool(flags, "quiet")) {
      for (const s of states) ctx.print(`${s.id}\n`);
      return Promise.resolve(0);
    }
    ctx.print(`${"ID".padEnd(20)}${"PID".padEnd(10)}${"STATUS".padEnd(10)}BUNDLE\n`);
    for (const s of states) {
      ctx.print(`${s.id.padEnd(20)}${String(s.pid).padEnd(10)}${s.status.padEnd(10)}${s.bundle}\n`);
    }
    return Promise.resolve(0);
  },
};

/** `runtime __init`: the container's init (internal). */
export const init: Command = {
  usage: "",
  summary: "Container init (internal)",
  flags: [],
  args: { max: 0 },
  async run() {
    const env = Deno.env.get(INIT_ENV);
    if (env === undefined) throw new UsageError(`"berth runtime __init" is internal`);
    // Not through runtime/mod.ts: every other process that loads the runtime would load it too.
    const { runInit } = await import("../runtime/init.ts");
    return runInit(JSON.parse(env));
  },
};
