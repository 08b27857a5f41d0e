/**
 * The Dockerfile parser: text to a typed syntax tree (directives, meta ARGs,
 * stages of instructions), plus the variable expansion and ARG scoping a
 * builder applies per instruction.
 *
 * @example
 * ```ts
 * import { expandInstruction, parse, resolveMetaArgs, StageScope } from "./lib/build/dockerfile/mod.ts";
 * const df = parse("ARG V=1\nFROM busybox:$V\nENV A=$V\n");
 * const meta = resolveMetaArgs(df.metaArgs);
 * const from = expandInstruction(df.stages[0]!.from, meta); // image "busybox:1"
 * const scope = new StageScope({ metaArgs: meta });
 * ```
 * @module
 */
export type * from "./ast.ts";
export { DockerfileError } from "./error.ts";
export { expandHeredoc, type ExpandOptions, expandWord, expandWords, type Vars } from "./expand.ts";
export { KEYWORDS } from "./instructions.ts";
export { parse, type ParseOptions } from "./parse.ts";
export {
  expandInstruction,
  type MetaArgOptions,
  PREDEFINED_ARGS,
  resolveMetaArgs,
  StageScope,
  type StageScopeOptions,
} from "./scope.ts";
export { parseDuration } from "./duration.ts";
