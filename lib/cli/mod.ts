/**
 * berth's command line: global flags, the command table, `--help`, and the
 * mapping of errors to Docker's exit codes. Each command lives in its own
 * file and is loaded only when it runs, so a command pays only for itself.
 *
 * @example
 * ```ts
 * import { main } from "./lib/cli/mod.ts";
 * Deno.exit(await main(["images", "-q"]));
 * ```
 * @module
 */
import { describeError, EngineError, UsageError } from "../errors.ts";
import { FlagError, type FlagValues, formatFlags, parseArgs } from "./_args.ts";
import { type Command, type Context, exitCodeFor, makeContext } from "./_command.ts";
import type { RunContext } from "./_early_run.ts";
import { type CommandEntry, COMMANDS, GROUPS } from "./_table.ts";

/** berth's version, printed by `--version`. */
export const VERSION = "0.1.0";

const GLOBAL_FLAGS = [
  {
    name: "root",
    type: "string",
    value: "DIR",
    description: "Root of berth's storage (env BERTH_ROOT)",
    default: "/var/lib/berth",
  },
  {
    name: "run-root",
    type: "string",
    value: "DIR",
    description: "Root of berth's runtime state (env BERTH_RUN_ROOT)",
    default: "/run/berth",
  },
  {
    name: "insecure-registry",
    type: "list",
    value: "HOST[:PORT]",
    description:
      "Reach this registry over plain HTTP (repeatable; adds to env BERTH_INSECURE_REGISTRIES and the config file's insecure-registries)",
  },
  {
    name: "config",
    type: "string",
    value: "DIR",
    description:
      "Location of client config files (env DOCKER_CONFIG; default env BERTH_CONFIG, else ~/.berth)",
  },
  {
    name: "host",
    short: "H",
    type: "list",
    value: "list",
    description:
      "Daemon socket to connect to (env DOCKER_HOST): berth has no daemon, so only this machine's",
  },
  {
    name: "debug",
    short: "D",
    type: "bool",
    description: "Print the full error chain and stack traces",
  },
  { name: "help", short: "h", type: "bool", description: "Print usage" },
  { name: "version", short: "v", type: "bool", description: "Print version information and quit" },
] as const satisfies Parameters<typeof parseArgs>[0];

/**
 * Runs berth with `argv` (without the program name) and returns the exit status.
 * Prints errors as one line on stderr; never throws.
 */
export async function main(argv: string[], ctxOverride?: Context): Promise<number> {
  let ctx: Context | undefined = ctxOverride;
  try {
    const global = parseArgs(GLOBAL_FLAGS, argv, { stopAtPositional: true });
    useConfigDir(global.flags.config as string | undefined);
    ctx ??= makeContext({
      root: resolveRoot(
        global.flags.root as string | undefined,
        "BERTH_ROOT",
        "/var/lib/berth",
        argv,
        "--root",
      ),
      runRoot: resolveRoot(
        global.flags["run-root"] as string | undefined,
        "BERTH_RUN_ROOT",
        "/run/berth",
        argv,
        "--run-root",
      ),
      debug: global.flags.debug === true,
      insecureRegistries: global.flags["insecure-registry"] as string[],
    });
    if (global.flags.version === true) {
      ctx.print(`berth version ${VERSION}, deno ${Deno.version.deno}\n`);
      return 0;
    }
    const [name, ...rest] = global.args;
    if (name === undefined || global.flags.help === true || name === "help") {
      ctx.print(mainHelp());
      return 0;
    }
    checkHost(global.flags.host as string[]);
    return await dispatch(ctx, name, rest);
  } catch (error) {
    return report(ctx, error);
  }
}

/**
 * `--config DIR`, else `DOCKER_CONFIG` (when `BERTH_CONFIG` is not set), is
 * where every part of berth that reads config.json looks: the registry
 * client's credentials, login, and the CLI's own defaults.
 */
function useConfigDir(flag: string | undefined): void {
  const dir = flag ?? (Deno.env.get("BERTH_CONFIG") ? undefined : Deno.env.get("DOCKER_CONFIG"));
  if (dir === undefined || dir === "") return;
  Deno.env.set("BERTH_CONFIG", dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`);
}

/** The endpoints that mean this machine's engine: docker's own default socket. */
const LOCAL_HOSTS = new Set(["unix:///var/run/docker.sock", "unix:///run/docker.sock"]);

/**
 * berth has no daemon: it runs containers on this machine only, so `-H` or
 * `DOCKER_HOST` naming another endpoint is refused rather than ignored.
 * @throws {EngineError} exit 1, as docker when it cannot reach a daemon
 */
function checkHost(flags: string[]): void {
  const hosts = flags.length > 0 ? flags : [Deno.env.get("DOCKER_HOST") ?? ""];
  if (hosts.length > 1) {
    throw new UsageError("Please specify only one -H", { exitCode: 1 });
  }
  const host = hosts[0]!.trim().replace(/\/+$/, "");
  if (host === "" || LOCAL_HOSTS.has(host)) return;
  throw new EngineError(
    `Cannot connect to the Docker daemon at ${host}: berth has no daemon and manages only this machine's containers`,
    {
      exitCode: 1,
      hint: `unset DOCKER_HOST or leave out -H`,
    },
  );
}

function resolveRoot(
  flag: string | undefined,
  env: string,
  fallback: string,
  argv: string[],
  long: string,
): string {
  const given = argv.some((a) => a === long || a.startsWith(`${long}=`));
  const value = given && flag !== undefined ? flag : Deno.env.get(env) || fallback;
  return value.startsWith("/") ? value : `${Deno.cwd()}/${value}`;
}

async function dispatch(ctx: Context, name: string, rest: string[]): Promise<number> {
  let path = name;
  let entry: CommandEntry | undefined = COMMANDS[name];
  let args = rest;
  if (GROUPS[name] !== undefined) {
    const sub = rest[0];
    if (sub === undefined || sub === "--help" || sub === "-h") {
      ctx.print(groupHelp(name));
      return 0;
    }
    path = `${name} ${sub}`;
    entry = COMMANDS[path];
    args = rest.slice(1);
    if (entry === undefined) {
      throw new UsageError(`unknown command: "berth ${path}" (see 'berth ${name} --help')`, {
        exitCode: 1,
      });
    }
  }
  if (entry === undefined) {
    throw new UsageError(`unknown command: "berth ${name}" (see 'berth --help')`, { exitCode: 1 });
  }
  // From here its errors take this command's exit codes (see exitCodeFor).
  ctx.command = path;
  // The container's init boots while run's modules load (see _early_run.ts).
  const early = path === "run" || path === "container run"
    ? (await import("./_early_run.ts")).startEarlyInit(ctx.self, args)
    : undefined;
  try {
    const runCtx: RunContext = early === undefined ? ctx : { ...ctx, earlyInit: early };
    return await runCommand(runCtx, path, entry, args);
  } finally {
    // Killed and reaped unless the run adopted it (a bad flag or image, a name in use).
    await early?.discard();
  }
}

async function runCommand(
  ctx: Context,
  path: string,
  entry: CommandEntry,
  args: string[],
): Promise<number> {
  const command: Command = await entry.load();
  if (args.includes("--help") && !helpIsPositional(command, args)) {
    ctx.print(commandHelp(path, command));
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs(command.flags, args, {
      stopAtPositional: command.stopAtPositional ?? false,
    });
  } catch (error) {
    if (error instanceof FlagError) {
      throw new FlagError(`${error.message} (see 'berth ${path} --help')`);
    }
    throw error;
  }
  const { min = 0, max = Infinity } = command.args ?? {};
  if (parsed.args.length < min || parsed.args.length > max) {
    const wanted = min === max
      ? `exactly ${min} argument${min === 1 ? "" : "s"}`
      : parsed.args.length < min
      ? `at least ${min} argument${min === 1 ? "" : "s"}`
      : `at most ${max} argument${max === 1 ? "" : "s"}`;
    // docker exits 1 for a wrong number of arguments, 125 for a bad flag.
    throw new UsageError(`"berth ${path}" requires ${wanted} (see 'berth ${path} --help')`, {
      exitCode: 1,
    });
  }
  applyConfigDefaults(path, command, parsed.flags);
  checkTty(ctx, path, parsed.flags);
  return await command.run(ctx, parsed.flags, parsed.args);
}

/** `run IMAGE sh --help` passes --help to the container, not to berth. */
function helpIsPositional(command: Command, args: string[]): boolean {
  if (!command.stopAtPositional) return false;
  try {
    const parsed = parseArgs(command.flags.filter((f) => f.name !== "help"), args, {
      stopAtPositional: true,
    });
    return parsed.args.includes("--help");
  } catch {
    return false;
  }
}

const TTY_COMMANDS = new Set(["run", "container run", "exec", "container exec"]);

/**
 * docker's `run -it`/`exec -it` needs a terminal on stdin to attach to; with
 * `-d` nothing attaches. Checked before anything is made.
 * @throws {EngineError} exit 1, docker's words
 */
function checkTty(ctx: Context, path: string, flags: FlagValues): void {
  if (!TTY_COMMANDS.has(path) || ctx.stdinIsTerminal) return;
  if (flags.interactive === true && flags.tty === true && flags.detach !== true) {
    throw new EngineError("the input device is not a TTY", { exitCode: 1 });
  }
}

const PS_COMMANDS = new Set(["ps", "container ls", "container ps", "container list"]);
const IMAGES_COMMANDS = new Set(["images", "image ls", "image list"]);

/**
 * config.json's defaults for what the command line leaves out, as docker's
 * CLI takes them: `psFormat`, `imagesFormat`, `detachKeys`.
 */
function applyConfigDefaults(path: string, command: Command, flags: FlagValues): void {
  const has = (name: string) => command.flags.some((f) => f.name === name);
  const wants: [string, string][] = [];
  if (PS_COMMANDS.has(path) && has("format") && !flags.format) wants.push(["format", "psFormat"]);
  if (IMAGES_COMMANDS.has(path) && has("format") && !flags.format) {
    wants.push(["format", "imagesFormat"]);
  }
  if (has("detach-keys") && !flags["detach-keys"]) {
    // An empty `--detach-keys=` is none given: the config's, else the default.
    delete flags["detach-keys"];
    wants.push(["detach-keys", "detachKeys"]);
  }
  if (wants.length === 0) return;
  const home = Deno.env.get("HOME") ?? "/root";
  const dir = Deno.env.get("BERTH_CONFIG") || `${home}/.berth`;
  const files = [`${dir}/config.json`, `${home}/.docker/config.json`].map(readConfigFile);
  for (const [flag, key] of wants) {
    const value = files.map((f) => f[key]).find((v) => typeof v === "string" && v !== "");
    if (typeof value === "string") flags[flag] = value;
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return {};
  }
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : {};
  } catch (error) {
    throw new EngineError(`Invalid config file "${path}"`, { cause: error });
  }
}

function report(ctx: Context | undefined, error: unknown): number {
  const exitCode = exitCodeFor(ctx?.command, error);
  const write = ctx?.printErr ??
    ((t: string) => Deno.stderr.writeSync(new TextEncoder().encode(t)));
  // docker prints why an exec'd process could not start on stdout, as the process's own words.
  if (error instanceof EngineError && error.name === "ExecStartError") {
    const print = ctx?.print ?? ((t: string) => Deno.stdout.writeSync(new TextEncoder().encode(t)));
    // As docker's, whose stream is the terminal's: a carriage return before the newline.
    print(`${error.message}\r\n`);
    return exitCode;
  }
  let text = `Error: ${describeError(error)}`;
  if (error instanceof EngineError && error.hint !== undefined) text += ` (${error.hint})`;
  write(`${text}\n`);
  if (ctx?.debug && error instanceof Error && error.stack !== undefined) write(`${error.stack}\n`);
  return exitCode;
}

function mainHelp(): string {
  const lines = [
    "Usage:  berth [OPTIONS] COMMAND",
    "",
    "A Docker-compatible container engine in one binary",
    "",
    "Options:",
    formatFlags(GLOBAL_FLAGS),
    "",
    "Management Commands:",
    ...Object.entries(GROUPS).map(([name, summary]) => `  ${name.padEnd(12)}${summary}`),
    "",
    "Commands:",
    ...Object.entries(COMMANDS)
      .filter(([name, entry]) => !name.includes(" ") && !entry.hidden)
      .map(([name, entry]) => `  ${name.padEnd(12)}${entry.summary}`),
    "",
    "Run 'berth COMMAND --help' for more information on a command.",
    "",
  ];
  return lines.join("\n");
}

function groupHelp(group: string): string {
  const subs = Object.entries(COMMANDS).filter(([name, entry]) =>
    name.startsWith(`${group} `) && !entry.hidden
  );
  return [
    `Usage:  berth ${group} COMMAND`,
    "",
    GROUPS[group],
    "",
    "Commands:",
    ...subs.map(([name, entry]) => `  ${name.slice(group.length + 1).padEnd(12)}${entry.summary}`),
    "",
    `Run 'berth ${group} COMMAND --help' for more information on a command.`,
    "",
  ].join("\n");
}

function commandHelp(path: string, command: Command): string {
  return [
    `Usage:  berth ${path} ${command.usage}`,
    "",
    command.summary,
    "",
    ...(command.flags.length > 0 ? ["Options:", formatFlags(command.flags), ""] : []),
  ].join("\n");
}
