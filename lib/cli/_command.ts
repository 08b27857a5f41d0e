/**
 * What every CLI command is: its usage line, flags and a `run` function, and
 * the context it runs in (the only place in berth that writes to the terminal).
 *
 * @module
 */
import { EngineError, EXIT_ENGINE, UsageError } from "../errors.ts";
import { FlagError, type FlagSpec, type FlagValues } from "./_args.ts";

/** Global options and I/O handed to each command. */
export interface Context {
  /** The store root (`--root`, `BERTH_ROOT`, default `/var/lib/berth`). */
  root: string;
  /** Runtime state directory (default `/run/berth`). */
  runRoot: string;
  debug: boolean;
  /** `--insecure-registry` names (`host[:port]`): registries reached over plain HTTP. */
  insecureRegistries?: string[];
  /** The argv that re-executes this berth (compiled binary or `deno run`). */
  self: string[];
  /** Writes text to stdout. */
  print(text: string): void;
  /** Writes text to stderr. */
  printErr(text: string): void;
  stdoutIsTerminal: boolean;
  stderrIsTerminal: boolean;
  stdinIsTerminal: boolean;
  /** The command running (`rm`, `image ls`), set once it is known: its errors' exit code depends on it. */
  command?: string;
}

/** One command or subcommand. */
export interface Command {
  /** Usage after the command name, e.g. `[OPTIONS] IMAGE [IMAGE...]`. */
  usage: string;
  /** One-line summary for `--help` and the command list. */
  summary: string;
  flags: FlagSpec[];
  /** Minimum and maximum number of positional arguments. */
  args?: { min?: number; max?: number };
  /** Everything after the first positional argument is positional (`run`, `exec`). */
  stopAtPositional?: boolean;
  /** Runs the command; returns the exit status. */
  run(ctx: Context, flags: FlagValues, args: string[]): Promise<number>;
}

/**
 * Commands whose every failure exits 125, as docker's `run`: its own code,
 * apart from the container's. berth's own groups (`runtime`, like runc, and
 * `registry`) keep the 125 they always had.
 */
function keeps125(command: string): boolean {
  return command === "run" || command === "container run" || command.startsWith("runtime ") ||
    command.startsWith("registry ");
}

/**
 * The exit status docker's CLI gives `error` in `command`: an error's own
 * code when it has one (126/127 of a process that cannot start, 1 of a
 * build); 125 for a flag its parser refuses, for any failure of `run`, and
 * for `create`'s checks of its flags' values (a UsageError) before it asks
 * the engine; 1 for everything else (no such container, a conflict, an
 * invalid filter, an unreachable registry).
 */
export function exitCodeFor(command: string | undefined, error: unknown): number {
  if (error instanceof EngineError && error.exitCode !== EXIT_ENGINE) return error.exitCode;
  if (command === undefined || error instanceof FlagError || keeps125(command)) return EXIT_ENGINE;
  const create = command === "create" || command === "container create";
  return create && error instanceof UsageError ? EXIT_ENGINE : 1;
}

/** Writes all of `bytes` to a file descriptor-backed writer synchronously. */
export function writeAllSync(
  writer: { writeSync(p: Uint8Array): number },
  bytes: Uint8Array,
): void {
  let off = 0;
  while (off < bytes.length) off += writer.writeSync(bytes.subarray(off));
}

const encoder = new TextEncoder();

/** The real terminal-backed context. */
export function makeContext(
  options: { root: string; runRoot: string; debug: boolean; insecureRegistries?: string[] },
): Context {
  const self = selfCommand();
  return {
    ...options,
    self,
    print: (text) => writeAllSync(Deno.stdout, encoder.encode(text)),
    printErr: (text) => writeAllSync(Deno.stderr, encoder.encode(text)),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    stdinIsTerminal: Deno.stdin.isTerminal(),
  };
}

/**
 * The argv that runs this same berth again: the compiled binary itself, or
 * `deno run` with the same main module and its deno.json (so the pinned
 * imports resolve whatever the working directory is).
 */
export function selfCommand(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  const main = new URL(Deno.mainModule).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  return [Deno.execPath(), "run", "-A", "--quiet", "--no-prompt", "--config", config, main];
}

/** Reads a string flag. */
export function str(flags: FlagValues, name: string): string | undefined {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
}

/** Reads a boolean flag. */
export function bool(flags: FlagValues, name: string): boolean {
  return flags[name] === true;
}

/** Reads a repeated flag. */
export function list(flags: FlagValues, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : [];
}

/** Reads an integer flag. */
export function int(flags: FlagValues, name: string): number | undefined {
  const v = flags[name];
  return typeof v === "number" ? v : undefined;
}
