/**
 * The typed syntax tree of a Dockerfile: directives, meta ARGs and stages of
 * instructions, each with its original text, flags and line numbers.
 *
 * @module
 */

/** Where an instruction stands in the file (1-based, inclusive). */
export interface Span {
  /** First line of the instruction. */
  line: number;
  /** Last line (continuations and heredoc bodies included). */
  endLine: number;
  /** Column of the keyword on its first line. */
  column: number;
}

/** A heredoc attached to RUN, COPY or ADD. */
export interface Heredoc {
  /** The marker word, quotes removed (`EOF`). */
  name: string;
  /** The body, each line with its newline; tabs stripped for `<<-`. */
  content: string;
  /** False when the marker was quoted: the body is then taken literally. */
  expand: boolean;
  /** True for `<<-`. */
  chomp: boolean;
  /** The file descriptor of `3<<EOF` (0 when none was written). */
  fd: number;
}

/** RUN/CMD/ENTRYPOINT/HEALTHCHECK command: JSON (exec) form or shell form. */
export type Command =
  | { form: "exec"; args: string[] }
  | { form: "shell"; script: string };

/** A `key=value` pair as written (quotes kept until expansion). */
export interface KeyValue {
  key: string;
  value: string;
}

/** An `ARG name[=default]` entry. */
export interface ArgDef {
  name: string;
  /** The default as written; undefined for `ARG name`. */
  value?: string;
}

/** Fields every instruction has. */
export interface InstrBase extends Span {
  /** Upper-case keyword. */
  keyword: string;
  /** The instruction as written, continuations joined (Docker's `Original`). */
  original: string;
  /** The flags given, by name without `--`; booleans read "true"/"false". */
  flags: Record<string, string[]>;
}

/** `FROM [--platform=P] image [AS name]`. */
export interface FromInstr extends InstrBase {
  keyword: "FROM";
  image: string;
  /** The stage name, lower-cased. */
  name?: string;
  platform?: string;
}

/** `RUN [--mount=...] [--network=...] [--security=...] command`. */
export interface RunInstr extends InstrBase {
  keyword: "RUN";
  command: Command;
  heredocs: Heredoc[];
  mounts: string[];
  network?: string;
  security?: string;
}

/** `CMD` or `ENTRYPOINT`. */
export interface CommandInstr extends InstrBase {
  keyword: "CMD" | "ENTRYPOINT";
  command: Command;
}

/** `ENV` or `LABEL`: pairs in order. */
export interface KeyValueInstr extends InstrBase {
  keyword: "ENV" | "LABEL";
  pairs: KeyValue[];
}

/** `ARG name[=default] ...`. */
export interface ArgInstr extends InstrBase {
  keyword: "ARG";
  args: ArgDef[];
}

/** A heredoc used as a COPY/ADD source: it becomes a file named after its marker. */
export interface InlineSource {
  /** The marker, which names the file. */
  name: string;
  content: string;
  expand: boolean;
}

/** `COPY` or `ADD`. */
export interface CopyInstr extends InstrBase {
  keyword: "COPY" | "ADD";
  /** Source paths (or URLs for ADD), as written. */
  sources: string[];
  /** Heredoc sources (`COPY <<EOF /path`). */
  inline: InlineSource[];
  dest: string;
  /** True when written in JSON form. */
  json: boolean;
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  /** ADD only. */
  checksum?: string;
  /** ADD only. */
  keepGitDir: boolean;
  exclude: string[];
  /** COPY only (`--parents`). */
  parents: boolean;
}

/** `EXPOSE port...`. */
export interface ExposeInstr extends InstrBase {
  keyword: "EXPOSE";
  ports: string[];
}

/** `VOLUME path...` or JSON. */
export interface VolumeInstr extends InstrBase {
  keyword: "VOLUME";
  paths: string[];
}

/** Single-value instructions: USER, WORKDIR, STOPSIGNAL, MAINTAINER. */
export interface ValueInstr extends InstrBase {
  keyword: "USER" | "WORKDIR" | "STOPSIGNAL" | "MAINTAINER";
  value: string;
}

/** `SHELL ["exe", "arg"...]`. */
export interface ShellInstr extends InstrBase {
  keyword: "SHELL";
  shell: string[];
}

/** `HEALTHCHECK NONE` or `HEALTHCHECK [options] CMD command`. */
export interface HealthcheckInstr extends InstrBase {
  keyword: "HEALTHCHECK";
  /** Docker's `Test`: `["NONE"]`, `["CMD", ...args]` or `["CMD-SHELL", script]`. */
  test: string[];
  /** Durations in nanoseconds; 0 or absent means Docker's default. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

/** `ONBUILD INSTRUCTION`: the trigger, parsed, and as written. */
export interface OnbuildInstr extends InstrBase {
  keyword: "ONBUILD";
  /** The trigger text, as stored in the image's `OnBuild`. */
  expression: string;
  trigger: Instr;
}

/** Any instruction. */
export type Instr =
  | FromInstr
  | RunInstr
  | CommandInstr
  | KeyValueInstr
  | ArgInstr
  | CopyInstr
  | ExposeInstr
  | VolumeInstr
  | ValueInstr
  | ShellInstr
  | HealthcheckInstr
  | OnbuildInstr;

/** The parser directives at the top of the file. */
export interface Directives {
  syntax?: string;
  /** `\` or a backtick. */
  escape: string;
  check?: string;
}

/** One build stage: its FROM and the instructions after it. */
export interface Stage {
  /** The `AS` name, lower-cased. */
  name?: string;
  /** Position among the stages, from 0. */
  index: number;
  from: FromInstr;
  line: number;
  instructions: Instr[];
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  directives: Directives;
  /** ARGs before the first FROM. */
  metaArgs: ArgInstr[];
  stages: Stage[];
}
