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
import { describeError, EngineError, EXIT_ENGINE, UsageError } from "../errors.ts";
import { formatFlags, parseArgs } from "./_args.ts";
import { type Command, type Context, makeContext } from "./_command.ts";
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
    return await dispatch(ctx, name, rest);
  } catch (error) {
    return report(ctx, error);
  }
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
      throw new UsageError(`unknown command: "berth ${path}" (see 'berth ${name} --help')`);
    }
  }
  if (entry === undefined) {
    throw new UsageError(`unknown command: "berth ${name}" (see 'berth --help')`);
  }
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
    if (error instanceof UsageError) {
      throw new UsageError(`${error.message} (see 'berth ${path} --help')`);
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
    throw new UsageError(`"berth ${path}" requires ${wanted} (see 'berth ${path} --help')`);
  }
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

function report(ctx: Context | undefined, error: unknown): number {
  const exitCode = error instanceof EngineError ? error.exitCode : EXIT_ENGINE;
  let text = `Error: ${describeError(error)}`;
  if (error instanceof EngineError && error.hint !== undefined) text += ` (${error.hint})`;
  const write = ctx?.printErr ??
    ((t: string) => Deno.stderr.writeSync(new TextEncoder().encode(t)));
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
