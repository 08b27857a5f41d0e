/**
 * `.dockerignore` files and the matcher Docker builds from them
 * (moby/patternmatcher): `*`, `?`, `[...]` and `\` as in Go's
 * `filepath.Match`, `**` for any number of directories, `!` exceptions where
 * the last matching line wins, and a pattern that matches a directory
 * matches everything under it.
 *
 * @module
 */
import { InvalidError } from "../../errors.ts";
import { BAD_PATTERN, type GlobToken, parseGlob } from "./glob.ts";

/**
 * Reads the lines of a `.dockerignore` as Docker does: a UTF-8 BOM, lines
 * starting with `#` and blank lines are dropped, surrounding space is
 * trimmed, and each pattern is cleaned (`./a`, `a//b/`, `/a` all become `a`),
 * keeping a leading `!`.
 * @param text the file's content
 * @returns the patterns, in order, for {@linkcode IgnoreMatcher}
 */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (const line of lines) {
    // Docker drops a comment before trimming: " # x" is a pattern.
    if (line.startsWith("#")) continue;
    let pattern = line.trim();
    if (pattern === "") continue;
    const invert = pattern.startsWith("!");
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern !== "") {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

/**
 * Cleans a slash path as Go's `path.Clean` does: no empty or `.` components,
 * `..` resolved lexically (kept at the start of a relative path, dropped at
 * the root of an absolute one), no trailing slash, `.` for an empty result.
 */
export function cleanPath(path: string): string {
  const rooted = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!rooted) parts.push("..");
    } else parts.push(part);
  }
  const joined = parts.join("/");
  if (rooted) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/** How one pattern compares paths (patternmatcher's fast paths, with their quirks). */
type Test =
  | { kind: "exact"; text: string }
  | { kind: "prefix"; text: string }
  | { kind: "suffix"; text: string }
  | { kind: "regexp"; re: RegExp };

interface Pattern {
  /** The cleaned pattern, without its `!`. */
  text: string;
  exception: boolean;
  test: Test;
}

/** Per-pattern results for a directory, handed to its children by {@linkcode IgnoreMatcher.match}. */
export type MatchState = readonly boolean[];

/** Characters that make an exception pattern more than a plain path (fsutil's list). */
const PATTERN_CHARS = /[*[\]?^\\]/;

/** Decides which context paths a list of `.dockerignore` patterns leaves out. */
export class IgnoreMatcher {
  readonly #patterns: Pattern[] = [];
  /** Whether any pattern is a `!` exception. */
  readonly hasExceptions: boolean;
  /** Whether some exception has wildcards, so any excluded directory may hold exceptions. */
  readonly #wildExceptions: boolean;

  /**
   * Compiles patterns (as {@linkcode parseIgnoreFile} returns them).
   * @throws {InvalidError} `illegal exclusion pattern: "!"` for a lone `!`, and
   *   `syntax error in pattern` for a malformed one
   */
  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      let text = raw.trim();
      if (text === "") continue;
      text = cleanPath(text);
      const exception = text.startsWith("!");
      if (exception) {
        if (text.length === 1) throw new InvalidError('illegal exclusion pattern: "!"');
        text = text.slice(1);
      }
      this.#patterns.push({ text, exception, test: compile(text) });
    }
    const exceptions = this.#patterns.filter((p) => p.exception);
    this.hasExceptions = exceptions.length > 0;
    this.#wildExceptions = exceptions.some((p) => PATTERN_CHARS.test(withoutTrailingGlob(p.text)));
  }

  /** The number of patterns (the length of a {@linkcode MatchState}). */
  get size(): number {
    return this.#patterns.length;
  }

  /**
   * Tells whether `path` is left out: the last pattern that matches it or one
   * of its parent directories decides.
   * @param path a relative slash path in the context, e.g. `src/main.go`
   */
  matches(path: string): boolean {
    const parents = path.split("/").slice(0, -1);
    let state: MatchState | undefined;
    for (let i = 1; i <= parents.length; i++) {
      state = this.match(parents.slice(0, i).join("/"), state).state;
    }
    return this.match(path, state).excluded;
  }

  /**
   * Matches `path` given its parent's state, so that a walk tests each
   * pattern once per path.
   * @param path a relative slash path in the context
   * @param parent the state returned for its parent directory; none at the top
   * @returns whether it is left out, and the state to pass to its children
   */
  match(path: string, parent?: MatchState): { excluded: boolean; state: MatchState } {
    let excluded = false;
    const state = this.#patterns.map((pattern, i) => {
      const hit = (parent?.[i] ?? false) || test(pattern.test, path);
      if (hit) excluded = !pattern.exception;
      return hit;
    });
    return { excluded, state };
  }

  /**
   * Tells whether something under an excluded directory could still be let
   * back in by an exception, so a walk must look inside it (as Docker's
   * fsutil decides: any exception with wildcards, or one under `dir/`).
   * @param dir the excluded directory, a relative slash path
   */
  mayReinclude(dir: string): boolean {
    if (!this.hasExceptions) return false;
    if (this.#wildExceptions) return true;
    const prefix = `${dir}/`;
    return this.#patterns.some((p) =>
      p.exception && `${withoutTrailingGlob(p.text)}/`.startsWith(prefix)
    );
  }
}

function withoutTrailingGlob(text: string): string {
  if (text.endsWith("/**")) return text.slice(0, -3);
  if (text.endsWith("/*")) return text.slice(0, -2);
  return text;
}

function test(t: Test, path: string): boolean {
  switch (t.kind) {
    case "exact":
      return path === t.text;
    case "prefix":
      return path.startsWith(t.text);
    case "suffix":
      // `**/foo` also matches a top-level `foo`.
      return path.endsWith(t.text) || (t.text.startsWith("/") && path === t.text.slice(1));
    case "regexp":
      return t.re.test(path);
  }
}

/**
 * Compiles one cleaned pattern. Plain text compares exactly; `lit**` is a
 * prefix test and `**lit` a suffix test (so `**file` matches `myfile`, as in
 * Docker); anything else becomes an anchored regular expression.
 */
function compile(text: string): Test {
  let tokens: GlobToken[];
  try {
    tokens = parseGlob(text);
  } catch (error) {
    throw new InvalidError(`${BAD_PATTERN}: "${text}"`, { cause: error });
  }
  let kind: Test["kind"] = "exact";
  let source = "";
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === "star" && tokens[i + 1]?.kind === "star") {
      i++;
      const next = tokens[i + 1];
      if (next?.kind === "char" && next.char === "/") i++;
      if (i + 1 >= tokens.length) {
        if (kind === "exact") kind = "prefix";
        else {
          source += ".*";
          kind = "regexp";
        }
      } else {
        source += "(?:.*/)?";
        kind = "regexp";
      }
      if (token === tokens[0]) kind = "suffix";
    } else if (token.kind === "star") {
      source += "[^/]*";
      kind = "regexp";
    } else if (token.kind === "any") {
      source += "[^/]";
      kind = "regexp";
    } else if (token.kind === "class") {
      source += classSource(token.negated, token.ranges, text);
      kind = "regexp";
    } else {
      source += escapeChar(token.char);
      // An escaped character differs from the text that matches it.
      if (token.escaped) kind = "regexp";
    }
  }
  if (kind === "exact") return { kind, text };
  if (kind === "prefix") return { kind, text: text.slice(0, -2) };
  if (kind === "suffix") return { kind, text: text.slice(2) };
  return { kind, re: new RegExp(`^${source}$`, "u") };
}

function classSource(negated: boolean, ranges: Array<[number, number]>, text: string): string {
  let out = negated ? "[^" : "[";
  for (const [lo, hi] of ranges) {
    // Go's regexp (which Docker compiles these into) rejects a reversed range.
    if (lo > hi) throw new InvalidError(`${BAD_PATTERN}: "${text}"`);
    out += lo === hi
      ? `\\u{${lo.toString(16)}}`
      : `\\u{${lo.toString(16)}}-\\u{${hi.toString(16)}}`;
  }
  return `${out}]`;
}

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}
