/**
 * Shell patterns with the semantics of Go's `path/filepath.Match`, which
 * Docker uses for COPY/ADD wildcards and to validate `.dockerignore` lines:
 * `*` (any run of non-`/` characters), `?` (one non-`/` character),
 * `[...]` classes with ranges and `^` negation, and `\` escapes.
 *
 * @module
 */
import { InvalidError } from "../../errors.ts";

/** One parsed element of a pattern. */
export type GlobToken =
  | { kind: "char"; char: string; escaped?: true }
  | { kind: "any" }
  | { kind: "star" }
  | { kind: "class"; negated: boolean; ranges: Array<[number, number]> };

/** Go's `filepath.ErrBadPattern` text, which Docker prints as is. */
export const BAD_PATTERN = "syntax error in pattern";

/**
 * Parses a pattern the way Go's `filepath.Match` reads it.
 * @param pattern the pattern, e.g. `*.txt` or `[a-c]?`
 * @returns its tokens, one per character, wildcard or class
 * @throws {InvalidError} `syntax error in pattern` for a trailing `\`, an unclosed or empty
 *   class, or a range missing an end (`[-]`, `[x-]`, `[a-b-c]`)
 */
export function parseGlob(pattern: string): GlobToken[] {
  const chars = [...pattern];
  const tokens: GlobToken[] = [];
  let i = 0;
  const bad = () => new InvalidError(BAD_PATTERN);
  /** Reads one class member: a character, possibly escaped; never `-` or `]` unescaped. */
  const classChar = (): number => {
    let c = chars[i];
    if (c === undefined || c === "-" || c === "]") throw bad();
    if (c === "\\") c = chars[++i];
    if (c === undefined) throw bad();
    i++;
    // A member must be followed by more of the class: `[a` is unterminated.
    if (i >= chars.length) throw bad();
    return c.codePointAt(0)!;
  };
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === "*") {
      tokens.push({ kind: "star" });
      i++;
    } else if (c === "?") {
      tokens.push({ kind: "any" });
      i++;
    } else if (c === "\\") {
      const next = chars[i + 1];
      if (next === undefined) throw bad();
      tokens.push({ kind: "char", char: next, escaped: true });
      i += 2;
    } else if (c === "[") {
      i++;
      const negated = chars[i] === "^";
      if (negated) i++;
      const ranges: Array<[number, number]> = [];
      while (!(chars[i] === "]" && ranges.length > 0)) {
        const lo = classChar();
        let hi = lo;
        if (chars[i] === "-") {
          i++;
          hi = classChar();
        }
        ranges.push([lo, hi]);
      }
      i++; // the closing `]`
      tokens.push({ kind: "class", negated, ranges });
    } else {
      tokens.push({ kind: "char", char: c });
      i++;
    }
  }
  return tokens;
}

/**
 * Tells whether `name` matches `pattern` as Go's `filepath.Match` does: the
 * whole name must match, and neither `*` nor `?` matches a `/`.
 * @param pattern a pattern, or the tokens {@linkcode parseGlob} made of it
 * @param name the name to test
 * @throws {InvalidError} `syntax error in pattern` for a malformed pattern, whatever the name
 */
export function matchGlob(pattern: string | readonly GlobToken[], name: string): boolean {
  const tokens = typeof pattern === "string" ? parseGlob(pattern) : pattern;
  return matchFrom(tokens, 0, [...name], 0);
}

function matchFrom(tokens: readonly GlobToken[], t: number, name: string[], n: number): boolean {
  for (; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.kind === "star") {
      // Try every split point up to the next separator, shortest first.
      for (let end = n;; end++) {
        if (matchFrom(tokens, t + 1, name, end)) return true;
        if (end >= name.length || name[end] === "/") return false;
      }
    }
    const c = name[n];
    if (c === undefined) return false;
    if (token.kind === "char" && token.char !== c) return false;
    if (token.kind === "any" && c === "/") return false;
    if (token.kind === "class" && !inClass(token, c.codePointAt(0)!)) return false;
    n++;
  }
  return n === name.length;
}

function inClass(token: { negated: boolean; ranges: Array<[number, number]> }, cp: number) {
  const hit = token.ranges.some(([lo, hi]) => lo <= cp && cp <= hi);
  return hit !== token.negated;
}

/**
 * Tells whether a COPY/ADD source uses wildcards, as Docker decides it: an
 * unescaped `*`, `?` or `[`.
 */
export function hasWildcards(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}
