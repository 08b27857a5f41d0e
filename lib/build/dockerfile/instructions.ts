/**
 * Turns one logical line into a typed instruction, with Docker's checks and
 * messages (flags each instruction accepts, argument counts, forms).
 *
 * @module
 */
import type {
  ArgDef,
  Command,
  CopyInstr,
  HealthcheckInstr,
  Heredoc,
  InlineSource,
  Instr,
  InstrBase,
  KeyValue,
} from "./ast.ts";
import { DockerfileError } from "./error.ts";
import type { LogicalLine } from "./lexer.ts";
import { parseDuration } from "./duration.ts";
import {
  extractFlags,
  heredocMarker,
  NOT_STRING_ARRAY,
  parseJsonForm,
  parseWords,
  type RawFlag,
  splitBlanks,
} from "./words.ts";

type FlagKind = "bool" | "string" | "strings";

/** The flags each instruction accepts, as BuildKit declares them. */
const FLAGS: Record<string, Record<string, FlagKind>> = {
  FROM: { platform: "string" },
  RUN: { mount: "strings", network: "string", security: "string" },
  COPY: {
    from: "string",
    chown: "string",
    chmod: "string",
    link: "bool",
    parents: "bool",
    exclude: "strings",
  },
  ADD: {
    chown: "string",
    chmod: "string",
    link: "bool",
    "keep-git-dir": "bool",
    checksum: "string",
    exclude: "strings",
  },
  HEALTHCHECK: {
    interval: "string",
    timeout: "string",
    "start-period": "string",
    "start-interval": "string",
    retries: "string",
  },
};

/** Keywords with their parsers; everything else is an unknown instruction. */
export const KEYWORDS = [
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
] as const;

/** Where and how to report: the file and the escape character. */
export interface ParseContext {
  file: string;
  escape: string;
}

class Req {
  readonly keyword: string;
  /** The keyword as written. */
  readonly written: string;
  readonly rest: string;
  readonly flags: Record<string, string[]> = {};
  readonly #ctx: ParseContext;
  readonly #logical: LogicalLine;
  readonly #raw: RawFlag[];
  readonly #flagsAt: number;

  constructor(logical: LogicalLine, ctx: ParseContext) {
    this.#ctx = ctx;
    this.#logical = logical;
    const match = /^(\S+)\s*/.exec(logical.text)!;
    this.written = match[1]!;
    this.keyword = this.written.toUpperCase();
    this.#flagsAt = match[0].length;
    const { flags, rest } = extractFlags(logical.text.slice(match[0].length));
    this.#raw = flags;
    this.rest = rest;
  }

  fail(reason: string, offset = 0): never {
    const onFirstLine = !this.#logical.text.slice(0, offset).includes("\n");
    throw new DockerfileError(reason, {
      file: this.#ctx.file,
      line: this.#logical.line,
      column: this.#logical.column + (onFirstLine ? offset : 0),
    });
  }

  /** Checks the flags against what the instruction takes (Docker's BFlags). */
  checkFlags(): void {
    const allowed = FLAGS[this.keyword] ?? {};
    for (const flag of this.#raw) {
      const at = this.#flagsAt + flag.offset;
      const kind = allowed[flag.name];
      if (kind === undefined) this.fail(`unknown flag: --${flag.name}`, at);
      if (kind !== "strings" && this.flags[flag.name] !== undefined) {
        this.fail(`duplicate flag specified: --${flag.name}`, at);
      }
      if (kind === "bool") {
        const value = flag.value === undefined ? "true" : flag.value.toLowerCase();
        if (flag.value === "") this.fail(`missing a value on flag: --${flag.name}`, at);
        if (value !== "true" && value !== "false") {
          this.fail(`expecting boolean value for flag --${flag.name}, not: ${flag.value}`, at);
        }
        this.flags[flag.name] = [value];
      } else {
        if (flag.value === undefined) this.fail(`missing a value on flag: --${flag.name}`, at);
        (this.flags[flag.name] ??= []).push(flag.value);
      }
    }
  }

  flag(name: string): string | undefined {
    return this.flags[name]?.at(-1);
  }

  base(): InstrBase {
    const { line, endLine, column, text } = this.#logical;
    return { keyword: this.keyword, original: text, flags: this.flags, line, endLine, column };
  }

  json(text = this.rest): string[] | undefined {
    const form = parseJsonForm(text);
    if (form === NOT_STRING_ARRAY) this.fail(NOT_STRING_ARRAY);
    return form;
  }

  command(text = this.rest): Command {
    const args = this.json(text);
    return args === undefined ? { form: "shell", script: text } : { form: "exec", args };
  }

  get escape(): string {
    return this.#ctx.escape;
  }
  get heredocs(): Heredoc[] {
    return this.#logical.heredocs;
  }
}

function keyValues(req: Req): KeyValue[] {
  const words = parseWords(req.rest, req.escape);
  if (words.length === 0) req.fail(`${req.keyword} requires at least one argument`);
  if (!words[0]!.includes("=")) {
    // the legacy form: KEY name value...
    const parts = req.rest.split(/\s+(.*)/s);
    if (parts.length < 2 || parts[1] === "") req.fail(`${req.keyword} must have two arguments`);
    return [{ key: parts[0]!, value: parts[1]! }];
  }
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq < 0) {
      req.fail(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    }
    if (eq === 0) req.fail(`${req.keyword} names can not be blank`);
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
}

function exactlyOne(req: Req): string {
  if (req.rest === "") req.fail(`${req.keyword} requires exactly one argument`);
  return req.rest;
}

function copy(req: Req): CopyInstr {
  const json = req.json();
  const args = json ?? splitBlanks(req.rest);
  if (args.length < 2) {
    req.fail(
      `${req.keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`,
    );
  }
  const dest = args.at(-1)!;
  const heredocs = json === undefined ? req.heredocs : [];
  if (json === undefined && heredocMarker(dest) !== undefined) {
    req.fail(`${req.keyword} cannot accept a heredoc as a destination`);
  }
  const sources: string[] = [];
  const inline: InlineSource[] = [];
  for (const src of args.slice(0, -1)) {
    const marker = json === undefined ? heredocMarker(src) : undefined;
    const doc = marker && heredocs.find((h) => h.name === marker.name);
    if (doc) inline.push({ name: doc.name, content: doc.content, expand: doc.expand });
    else sources.push(src);
  }
  const out: CopyInstr = {
    ...req.base(),
    keyword: req.keyword as "COPY" | "ADD",
    sources,
    inline,
    dest,
    json: json !== undefined,
    link: req.flag("link") === "true",
    keepGitDir: req.flag("keep-git-dir") === "true",
    parents: req.flag("parents") === "true",
    exclude: req.flags["exclude"] ?? [],
  };
  for (const name of ["from", "chown", "chmod", "checksum"] as const) {
    const value = req.flag(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function healthcheck(req: Req): HealthcheckInstr {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(req.rest);
  if (match === null) req.fail("HEALTHCHECK requires at least one argument");
  const type = match[1]!.toUpperCase();
  const rest = match[2]!;
  if (type === "NONE") {
    if (rest !== "") req.fail("HEALTHCHECK NONE takes no arguments");
    return { ...req.base(), keyword: "HEALTHCHECK", test: ["NONE"] };
  }
  if (type !== "CMD") req.fail(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const command = req.command(rest);
  const args = command.form === "exec" ? command.args : rest === "" ? [] : [rest];
  if (args.length === 0) req.fail("Missing command after HEALTHCHECK CMD");
  const out: HealthcheckInstr = {
    ...req.base(),
    keyword: "HEALTHCHECK",
    test: [command.form === "exec" ? "CMD" : "CMD-SHELL", ...args],
  };
  const durations = [
    ["interval", "interval"],
    ["timeout", "timeout"],
    ["start-period", "startPeriod"],
    ["start-interval", "startInterval"],
  ] as const;
  for (const [flag, field] of durations) {
    const value = req.flag(flag);
    if (value === undefined || value === "") continue;
    let ns: number;
    try {
      ns = parseDuration(value);
    } catch (error) {
      req.fail((error as Error).message);
    }
    if (ns !== 0 && ns < 1e6) req.fail(`Interval "${flag}" cannot be less than 1ms`);
    out[field] = ns;
  }
  const retries = req.flag("retries");
  if (retries !== undefined && retries !== "") {
    if (!/^[+-]?\d+$/.test(retries)) {
      req.fail(`strconv.ParseInt: parsing "${retries}": invalid syntax`);
    }
    const n = Number(retries);
    if (n < 0) req.fail(`--retries cannot be negative (${n})`);
    out.retries = n;
  }
  return out;
}

function args(req: Req): ArgDef[] {
  const words = parseWords(req.rest, req.escape);
  if (words.length === 0) req.fail("ARG requires at least one argument");
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq === 0) req.fail("ARG names can not be blank");
    return eq < 0 ? { name: word } : { name: word.slice(0, eq), value: word.slice(eq + 1) };
  });
}

function onbuild(req: Req, logical: LogicalLine, ctx: ParseContext): Instr {
  const expression = req.rest.trim();
  if (expression === "") req.fail("ONBUILD requires at least one argument");
  const trigger = /^\S+/.exec(expression)![0].toUpperCase();
  if (trigger === "ONBUILD") req.fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger === "FROM" || trigger === "MAINTAINER") {
    req.fail(`${trigger} isn't allowed as an ONBUILD trigger`);
  }
  const offset = logical.text.length - req.rest.length;
  const inner = parseInstruction(
    { ...logical, text: expression, column: logical.column + offset, heredocs: [] },
    ctx,
  );
  return { ...req.base(), keyword: "ONBUILD", expression, trigger: inner };
}

/**
 * Parses one logical line into an instruction.
 * @throws {DockerfileError} with Docker's message for an unknown instruction or flag, or bad arguments
 */
export function parseInstruction(logical: LogicalLine, ctx: ParseContext): Instr {
  const req: Req = new Req(logical, ctx);
  if (!(KEYWORDS as readonly string[]).includes(req.keyword)) {
    req.fail(`unknown instruction: ${req.written}`);
  }
  req.checkFlags();
  const base = req.base();
  switch (req.keyword) {
    case "FROM": {
      const words = splitBlanks(req.rest);
      if (!(words.length === 1 || (words.length === 3 && words[1]!.toLowerCase() === "as"))) {
        req.fail("FROM requires either one or three arguments");
      }
      const name = words[2]?.toLowerCase();
      if (name !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(name)) {
        req.fail(
          `invalid name for build stage: "${
            words[2]
          }", name can't start with a number or contain symbols`,
        );
      }
      const platform = req.flag("platform");
      return {
        ...base,
        keyword: "FROM",
        image: words[0]!,
        ...(name === undefined ? {} : { name }),
        ...(platform === undefined ? {} : { platform }),
      };
    }
    case "RUN": {
      const heredocs = req.json() === undefined ? logical.heredocs : [];
      const network = req.flag("network");
      const security = req.flag("security");
      return {
        ...base,
        keyword: "RUN",
        command: req.command(),
        heredocs,
        mounts: req.flags["mount"] ?? [],
        ...(network === undefined ? {} : { network }),
        ...(security === undefined ? {} : { security }),
      };
    }
    case "CMD":
    case "ENTRYPOINT":
      return { ...base, keyword: req.keyword, command: req.command() };
    case "ENV":
    case "LABEL":
      return { ...base, keyword: req.keyword, pairs: keyValues(req) };
    case "ARG":
      return { ...base, keyword: "ARG", args: args(req) };
    case "COPY":
    case "ADD":
      return copy(req);
    case "EXPOSE": {
      const ports = splitBlanks(req.rest);
      if (ports.length === 0) req.fail("EXPOSE requires at least one argument");
      return { ...base, keyword: "EXPOSE", ports };
    }
    case "VOLUME": {
      const paths = req.json() ?? splitBlanks(req.rest);
      if (paths.length === 0) req.fail("VOLUME requires at least one argument");
      if (paths.some((p) => p.trim() === "")) {
        req.fail("VOLUME specified can not be an empty string");
      }
      return { ...base, keyword: "VOLUME", paths };
    }
    case "USER":
    case "WORKDIR":
    case "STOPSIGNAL":
    case "MAINTAINER":
      return { ...base, keyword: req.keyword, value: exactlyOne(req) };
    case "SHELL": {
      const shell = req.json();
      if (shell === undefined) req.fail("SHELL requires the arguments to be in JSON form");
      if (shell.length === 0) req.fail("SHELL requires at least one argument");
      return { ...base, keyword: "SHELL", shell };
    }
    case "HEALTHCHECK":
      return healthcheck(req);
    default:
      return onbuild(req, logical, ctx);
  }
}
