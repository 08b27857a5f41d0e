/**
 * Splits Dockerfile text into logical lines as BuildKit's parser does:
 * parser directives at the top, comments and blank lines dropped, lines
 * joined at the escape character (comment and blank lines inside a
 * continuation skipped), and heredoc bodies read after their line.
 *
 * @module
 */
import type { Directives, Heredoc } from "./ast.ts";
import { DockerfileError } from "./error.ts";

/** One instruction's text, before it is parsed. */
export interface LogicalLine {
  /** The joined text, without the continuation characters. */
  text: string;
  line: number;
  endLine: number;
  /** Column of the first non-blank character on the first line. */
  column: number;
  heredocs: Heredoc[];
}

/** A heredoc marker found on a line, before its body is read. */
export type HeredocMarker = Omit<Heredoc, "content">;

/** Options for {@linkcode lex}. */
export interface LexOptions {
  /** The file name errors carry. @default "Dockerfile" */
  file?: string;
  /** The heredoc markers of a logical line (none unless RUN/COPY/ADD uses some). */
  heredocsOf?: (text: string, escape: string) => HeredocMarker[];
}

const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const KNOWN_DIRECTIVES = new Set(["syntax", "escape", "check"]);

/** Reads the parser directives from the top lines; returns where they end. */
function readDirectives(lines: string[], file: string): Directives {
  const directives: Directives = { escape: "\\" };
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const match = DIRECTIVE.exec(lines[i]!.trimStart());
    if (match === null) break;
    const name = match[1]!.toLowerCase();
    const value = match[2]!;
    if (!KNOWN_DIRECTIVES.has(name)) break;
    if (seen.has(name)) {
      throw new DockerfileError(`only one ${name} parser directive can be used`, {
        file,
        line: i + 1,
      });
    }
    seen.add(name);
    if (name === "escape") {
      if (value !== "`" && value !== "\\") {
        throw new DockerfileError(`invalid escape token '${value}' does not match \` or \\`, {
          file,
          line: i + 1,
        });
      }
      directives.escape = value;
    } else if (name === "syntax") directives.syntax = value;
    else directives.check = value;
  }
  return directives;
}

/** Strips a trailing continuation character; says whether the line goes on. */
function continuation(text: string, escape: string): { text: string; more: boolean } {
  const re = escape === "`" ? /`[ \t]*$/ : /\\[ \t]*$/;
  const match = re.exec(text);
  return match === null ? { text, more: false } : { text: text.slice(0, match.index), more: true };
}

const isComment = (raw: string) => raw.trimStart().startsWith("#");

/**
 * Splits `text` into directives and logical lines.
 * @throws {DockerfileError} on a bad or repeated directive, or an unterminated heredoc
 */
export function lex(text: string, options: LexOptions = {}): {
  directives: Directives;
  lines: LogicalLine[];
} {
  const file = options.file ?? "Dockerfile";
  const raw = text.replace(/^\uFEFF/, "").split("\n");
  if (raw.length > 0 && raw[raw.length - 1] === "") raw.pop();
  const physical = raw.map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  const directives = readDirectives(physical, file);
  const escape = directives.escape;
  const lines: LogicalLine[] = [];
  let i = 0;
  while (i < physical.length) {
    const first = physical[i]!;
    const start = i++;
    const trimmed = first.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    let { text: joined, more } = continuation(trimmed, escape);
    while (more && i < physical.length) {
      const next = physical[i++]!;
      if (isComment(next) || next.trim() === "") continue;
      const part = continuation(next, escape);
      joined += part.text;
      more = part.more;
    }
    if (joined.trim() === "") continue;
    const logical: LogicalLine = {
      text: joined,
      line: start + 1,
      endLine: i,
      column: first.length - trimmed.length + 1,
      heredocs: [],
    };
    for (const marker of options.heredocsOf?.(joined, escape) ?? []) {
      let content = "";
      let terminated = false;
      while (i < physical.length) {
        const line = physical[i++]!;
        if ((marker.chomp ? line.replace(/^\t+/, "") : line) === marker.name) {
          terminated = true;
          break;
        }
        content += line + "\n";
      }
      if (!terminated) {
        throw new DockerfileError("unterminated heredoc", { file, line: logical.line });
      }
      if (marker.chomp) content = content.replace(/^\t+/gm, "");
      logical.heredocs.push({ ...marker, content });
    }
    logical.endLine = i;
    lines.push(logical);
  }
  return { directives, lines };
}
