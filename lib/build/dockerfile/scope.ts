/**
 * What a builder needs per instruction: the expansion of an instruction's
 * arguments with the variables in scope, and Docker's ARG scoping (meta ARGs
 * before the first FROM are seen by FROM lines only; inside a stage an ARG
 * must be declared, and ENV overrides an ARG of the same name).
 *
 * @module
 */
import type { ArgInstr, Instr, KeyValueInstr } from "./ast.ts";
import { expandHeredoc, expandWord, expandWords, type Vars } from "./expand.ts";
import { InvalidError } from "../../errors.ts";

/** Build args usable in RUN without an ARG line, as Docker's predefined ARGs. */
export const PREDEFINED_ARGS: readonly string[] = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/**
 * Expands an instruction's arguments where Docker does: FROM (image,
 * `--platform`), ENV and LABEL (keys and values), EXPOSE (re-split into
 * words), VOLUME, USER, WORKDIR, STOPSIGNAL, COPY/ADD (paths, `--from`,
 * `--chown`, `--chmod`, `--checksum`, heredoc bodies with an unquoted marker),
 * RUN's `--mount`. RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK commands are left to
 * the shell, ONBUILD triggers to the later build, and ARG defaults to
 * {@linkcode StageScope.declare} (each sees the ARGs before it).
 * @throws {InvalidError} on an unterminated quote or a bad `${...}`
 */
export function expandInstruction<T extends Instr>(instr: T, vars: Vars, escape = "\\"): T {
  const word = (w: string) => expandWord(w, vars, { escape });
  const out = structuredClone(instr) as Instr;
  switch (out.keyword) {
    case "FROM":
      out.image = word(out.image);
      if (out.platform !== undefined) out.platform = word(out.platform);
      break;
    case "ENV":
    case "LABEL":
      out.pairs = out.pairs.map(({ key, value }) => ({ key: word(key), value: word(value) }));
      break;
    case "EXPOSE":
      out.ports = out.ports.flatMap((p) => expandWords(p, vars, { escape }));
      break;
    case "VOLUME":
      out.paths = out.paths.map(word);
      if (out.paths.some((p) => p.trim() === "")) {
        throw new InvalidError("VOLUME specified can not be an empty string");
      }
      break;
    case "USER":
    case "WORKDIR":
    case "STOPSIGNAL":
      out.value = word(out.value);
      break;
    case "COPY":
    case "ADD":
      out.sources = out.sources.map(word);
      out.dest = word(out.dest);
      for (const name of ["from", "chown", "chmod", "checksum"] as const) {
        const value = out[name];
        if (value !== undefined) out[name] = word(value);
      }
      out.inline = out.inline.map((s) =>
        s.expand ? { ...s, content: expandHeredoc(s.content, vars) } : s
      );
      break;
    case "RUN":
      out.mounts = out.mounts.map(word);
      break;
  }
  return out as T;
}

/** Options for {@linkcode resolveMetaArgs}. */
export interface MetaArgOptions {
  /** `--build-arg` values. */
  buildArgs?: ReadonlyMap<string, string>;
  /** Values in the global scope before any ARG, e.g. TARGETPLATFORM, BUILDPLATFORM. */
  builtins?: ReadonlyMap<string, string>;
  /** The Dockerfile's escape character. @default "\\" */
  escape?: string;
}

/**
 * The values of the ARGs before the first FROM (plus the builtins), for
 * expanding FROM lines and for stages that redeclare them. A build arg
 * overrides a default; each default sees the ARGs above it.
 */
export function resolveMetaArgs(
  metaArgs: readonly ArgInstr[],
  options: MetaArgOptions = {},
): Map<string, string> {
  const values = new Map(options.builtins ?? []);
  for (const instr of metaArgs) {
    for (const def of instr.args) {
      const given = options.buildArgs?.get(def.name);
      if (given !== undefined) values.set(def.name, given);
      else if (def.value !== undefined) {
        values.set(def.name, expandWord(def.value, values, { escape: options.escape ?? "\\" }));
      }
    }
  }
  return values;
}

/** Options for {@linkcode StageScope}. */
export interface StageScopeOptions {
  /** The base image's `Env` (`KEY=value` entries). */
  env?: readonly string[];
  /** {@linkcode resolveMetaArgs}'s result. */
  metaArgs?: ReadonlyMap<string, string>;
  /** `--build-arg` values. */
  buildArgs?: ReadonlyMap<string, string>;
  /** The Dockerfile's escape character. @default "\\" */
  escape?: string;
}

/** The variables of one stage as its instructions run. */
export class StageScope {
  readonly #env = new Map<string, string>();
  readonly #args = new Map<string, string>();
  readonly #meta: ReadonlyMap<string, string>;
  readonly #buildArgs: ReadonlyMap<string, string>;
  readonly #escape: string;
  readonly #used = new Set<string>();

  constructor(options: StageScopeOptions = {}) {
    for (const entry of options.env ?? []) {
      const eq = entry.indexOf("=");
      if (eq > 0) this.#env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    this.#meta = options.metaArgs ?? new Map();
    this.#buildArgs = options.buildArgs ?? new Map();
    this.#escape = options.escape ?? "\\";
    for (const name of PREDEFINED_ARGS) {
      const value = this.#buildArgs.get(name);
      if (value !== undefined) this.#args.set(name, value);
    }
  }

  /** Variables for expansion: declared ARGs, overridden by ENV. */
  get vars(): Map<string, string> {
    return new Map([...this.#args, ...this.#env]);
  }

  /** The declared ARGs with a value (RUN sees them as environment too). */
  get args(): ReadonlyMap<string, string> {
    return this.#args;
  }

  /** The stage's environment (the image's Env plus ENV lines). */
  get env(): ReadonlyMap<string, string> {
    return this.#env;
  }

  /** Build args some ARG line of this stage (or a predefined one) consumed. */
  get usedBuildArgs(): ReadonlySet<string> {
    return this.#used;
  }

  /**
   * Declares the ARGs of one ARG line, in order: a build arg wins, then the
   * default (expanded with what is in scope), then a meta ARG of that name.
   */
  declare(instr: ArgInstr): void {
    for (const def of instr.args) {
      const given = this.#buildArgs.get(def.name);
      let value: string | undefined;
      if (given !== undefined) {
        value = given;
        this.#used.add(def.name);
      } else if (def.value !== undefined) {
        value = expandWord(def.value, this.vars, { escape: this.#escape });
      } else value = this.#meta.get(def.name);
      if (value !== undefined) this.#args.set(def.name, value);
    }
  }

  /** Applies an ENV line that {@linkcode expandInstruction} has expanded. */
  setEnv(instr: KeyValueInstr): void {
    for (const { key, value } of instr.pairs) this.#env.set(key, value);
  }
}
