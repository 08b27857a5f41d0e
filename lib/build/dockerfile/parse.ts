/**
 * Parses a whole Dockerfile into directives, meta ARGs and stages.
 *
 * @module
 */
import type { ArgInstr, Dockerfile, Stage } from "./ast.ts";
import { DockerfileError } from "./error.ts";
import { parseInstruction } from "./instructions.ts";
import { type HeredocMarker, lex } from "./lexer.ts";
import { extractFlags, heredocMarkers, parseJsonForm } from "./words.ts";

/** Options for {@linkcode parse}. */
export interface ParseOptions {
  /** The name errors use for the file. @default "Dockerfile" */
  file?: string;
}

/** Heredocs belong to RUN, COPY and ADD in shell form only. */
function heredocsOf(text: string): HeredocMarker[] {
  const match = /^(\S+)\s*/.exec(text);
  if (match === null || !/^(run|copy|add)$/i.test(match[1]!)) return [];
  const { rest } = extractFlags(text.slice(match[0].length));
  if (parseJsonForm(rest) !== undefined) return [];
  return heredocMarkers(text);
}

/**
 * Parses Dockerfile text.
 *
 * @example
 * ```ts
 * const df = parse("FROM busybox AS base\nRUN echo hi\n");
 * df.stages[0]!.instructions[0]!.keyword; // "RUN"
 * ```
 * @throws {DockerfileError} (an InvalidError) naming the file, line and column
 */
export function parse(text: string, options: ParseOptions = {}): Dockerfile {
  const file = options.file ?? "Dockerfile";
  const { directives, lines } = lex(text, { file, heredocsOf });
  const ctx = { file, escape: directives.escape };
  const metaArgs: ArgInstr[] = [];
  const stages: Stage[] = [];
  for (const logical of lines) {
    const instr = parseInstruction(logical, ctx);
    if (instr.keyword === "FROM") {
      if (instr.name !== undefined && stages.some((s) => s.name === instr.name)) {
        throw new DockerfileError(`duplicate stage name "${instr.name}"`, {
          file,
          line: instr.line,
          column: instr.column,
        });
      }
      stages.push({
        ...(instr.name === undefined ? {} : { name: instr.name }),
        index: stages.length,
        from: instr,
        line: instr.line,
        instructions: [],
      });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instr);
    } else if (instr.keyword === "ARG") {
      metaArgs.push(instr);
    } else {
      throw new DockerfileError("no build stage in current context", {
        file,
        line: instr.line,
        column: instr.column,
      });
    }
  }
  if (lines.length === 0) {
    const line = Math.max(1, text.split("\n").length - (text.endsWith("\n") ? 1 : 0));
    throw new DockerfileError("file with no instructions", { file, line });
  }
  return { directives, metaArgs, stages };
}
