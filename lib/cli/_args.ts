/**
 * Docker-style flag parsing: `-q`, `-it` (combined short flags), `--name web`,
 * `--name=web`, repeated flags, `--` to end flags. Unknown flags are usage
 * errors (exit 125, as Docker).
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/**
 * A command line docker's flag parser would refuse (unknown flag, missing or
 * malformed value): exit 125 for every command, where the same command's
 * other errors exit 1.
 */
export class FlagError extends UsageError {}

/** The kinds of value a flag takes. */
export type FlagType = "bool" | "string" | "list" | "int";

/** One flag a command accepts. */
export interface FlagSpec {
  /** Long name without dashes. */
  name: string;
  /** One-letter short name. */
  short?: string;
  type: FlagType;
  /** Shown in `--help`. */
  description: string;
  /** Placeholder for the value in `--help`. */
  value?: string;
  /** Default value, shown in `--help`. */
  default?: string | number | boolean;
  /** Other long names that mean the same flag. */
  aliases?: string[];
}

/** Parsed flag values by long name. */
export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

/** The result of {@linkcode parseArgs}. */
export interface ParsedArgs {
  flags: FlagValues;
  args: string[];
}

/** Options for {@linkcode parseArgs}. */
export interface ParseOptions {
  /**
   * Stop at the first positional argument, so that what follows belongs to
   * the container's command (`run IMAGE ls -l`). @default false
   */
  stopAtPositional?: boolean;
}

/**
 * Parses `argv` against `specs`.
 * @throws {FlagError} on an unknown flag, a missing value or a bad number
 */
export function parseArgs(
  specs: readonly FlagSpec[],
  argv: readonly string[],
  options: ParseOptions = {},
): ParsedArgs {
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const spec of specs) {
    byLong.set(spec.name, spec);
    for (const alias of spec.aliases ?? []) byLong.set(alias, spec);
    if (spec.short !== undefined) byShort.set(spec.short, spec);
  }
  const flags: FlagValues = {};
  for (const spec of specs) {
    if (spec.type === "list") flags[spec.name] = [];
    else if (spec.type === "bool") flags[spec.name] = spec.default === true;
    else if (spec.default !== undefined) flags[spec.name] = spec.default;
  }
  const args: string[] = [];
  let i = 0;
  const take = (spec: FlagSpec, shown: string, inline: string | undefined): void => {
    // Docker names a flag whose value is bad by both its names.
    const both = spec.short === undefined ? `--${spec.name}` : `-${spec.short}, --${spec.name}`;
    if (spec.type === "bool") {
      const value = inline === undefined ? true : parseBool(inline);
      if (value === undefined) {
        throw new FlagError(
          `invalid argument "${inline}" for "${both}" flag: strconv.ParseBool: parsing "${inline}": invalid syntax`,
        );
      }
      flags[spec.name] = value;
      return;
    }
    let value = inline;
    if (value === undefined) {
      i++;
      value = argv[i];
      if (value === undefined) throw new FlagError(`flag needs an argument: ${shown}`);
    }
    if (spec.type === "int") {
      if (!/^-?\d+$/.test(value)) {
        throw new FlagError(
          `invalid argument "${value}" for "${both}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`,
        );
      }
      flags[spec.name] = Number(value);
    } else if (spec.type === "list") {
      (flags[spec.name] as string[]).push(value);
    } else {
      flags[spec.name] = value;
    }
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = byLong.get(name);
      if (spec === undefined) throw new FlagError(`unknown flag: --${name}`);
      take(spec, `--${name}`, eq < 0 ? undefined : arg.slice(eq + 1));
    } else if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const spec = byShort.get(letter);
        if (spec === undefined) {
          throw new FlagError(`unknown shorthand flag: '${letter}' in ${arg}`);
        }
        if (spec.type === "bool") {
          // `-a=false`, `-it=false`: a bool's value follows its letter after `=`.
          if (arg[j + 1] === "=") {
            take(spec, `-${letter}`, arg.slice(j + 2));
            break;
          }
          take(spec, `-${letter}`, undefined);
          continue;
        }
        const rest = arg.slice(j + 1);
        take(spec, `-${letter}`, rest === "" ? undefined : rest.replace(/^=/, ""));
        break;
      }
    } else {
      args.push(arg);
      if (options.stopAtPositional) {
        args.push(...argv.slice(i + 1));
        break;
      }
    }
  }
  return { flags, args };
}

/** Go's strconv.ParseBool, as docker's flag parser reads `--flag=VALUE` for a boolean. */
function parseBool(text: string): boolean | undefined {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  return undefined;
}

/** Renders the flag list of `--help`. */
export function formatFlags(specs: readonly FlagSpec[]): string {
  const rows = specs.map((spec) => {
    const short = spec.short === undefined ? "    " : `-${spec.short}, `;
    const value = spec.type === "bool" ? "" : ` ${spec.value ?? spec.type}`;
    const def = spec.default === undefined || spec.default === "" || spec.default === false
      ? ""
      : ` (default ${typeof spec.default === "string" ? `"${spec.default}"` : spec.default})`;
    return [`  ${short}--${spec.name}${value}`, `${spec.description}${def}`];
  });
  const width = Math.max(0, ...rows.map(([left]) => left!.length));
  return rows.map(([left, right]) => `${left!.padEnd(width)}   ${right}`).join("\n");
}
