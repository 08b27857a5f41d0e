/**
 * The word-level pieces of BuildKit's Dockerfile parser: leading `--flags`,
 * quote-aware words for ENV/LABEL/ARG, the JSON (exec) form, and heredoc
 * markers.
 *
 * @module
 */
import type { HeredocMarker } from "./lexer.ts";
import { expandWords } from "./expand.ts";

/** A `--name[=value]` flag as written, with its offset in the text. */
export interface RawFlag {
  name: string;
  /** Undefined when no `=` was written. */
  value?: string;
  offset: number;
}

const isSpace = (ch: string) => /\s/.test(ch);

/**
 * Splits the leading `--flags` off an instruction's arguments (quotes and
 * backslashes honoured inside a flag; `--` alone ends the flags).
 */
export function extractFlags(text: string): { flags: RawFlag[]; rest: string; restOffset: number } {
  const flags: RawFlag[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && isSpace(text[pos]!)) pos++;
    if (!text.startsWith("--", pos)) return { flags, rest: text.slice(pos), restOffset: pos };
    const start = pos;
    let word = "";
    let quote: string | undefined;
    for (; pos < text.length; pos++) {
      const ch = text[pos]!;
      if (quote !== undefined) {
        if (ch === quote) quote = undefined;
        else if (ch === "\\" && pos + 1 < text.length) word += text[++pos];
        else word += ch;
      } else if (isSpace(ch)) break;
      else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === "\\") {
        if (pos + 1 < text.length) word += text[++pos];
      } else word += ch;
    }
    if (word === "--") {
      while (pos < text.length && isSpace(text[pos]!)) pos++;
      return { flags, rest: text.slice(pos), restOffset: pos };
    }
    const eq = word.indexOf("=");
    flags.push(
      eq < 0
        ? { name: word.slice(2), offset: start }
        : { name: word.slice(2, eq), value: word.slice(eq + 1), offset: start },
    );
  }
}

/**
 * Splits ENV/LABEL/ARG arguments into words at unquoted blanks, keeping the
 * quotes and escapes in each word for the expansion step to remove.
 */
export function parseWords(text: string, escape: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | undefined;
  for (let pos = 0; pos < text.length; pos++) {
    const ch = text[pos]!;
    if (quote === undefined) {
      if (isSpace(ch)) {
        if (inWord) words.push(word);
        word = "";
        inWord = false;
        continue;
      }
      inWord = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === escape) {
        if (pos + 1 === text.length) continue;
        word += ch;
        word += text[++pos];
        continue;
      }
      word += ch;
    } else {
      if (ch === quote) quote = undefined;
      else if (ch === escape && quote !== "'") {
        if (pos + 1 === text.length) continue;
        word += ch + text[++pos];
        continue;
      }
      word += ch;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Splits at runs of blanks, without quote handling (FROM, COPY, EXPOSE...). */
export function splitBlanks(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== "");
}

/** Why a JSON form was rejected outright (rather than read as shell form). */
export const NOT_STRING_ARRAY =
  "when using JSON array syntax, arrays must be comprised of strings only";

/**
 * Reads the JSON (exec) form: the strings, `undefined` when `text` is not a
 * JSON array (the shell form then applies), or `NOT_STRING_ARRAY` for an
 * array holding other values.
 */
export function parseJsonForm(text: string): string[] | undefined | typeof NOT_STRING_ARRAY {
  const trimmed = text.trim();
  if (!trimmed.startsWith("[")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  return value.every((v) => typeof v === "string") ? value as string[] : NOT_STRING_ARRAY;
}

const HEREDOC = /^(\d*)<<(-?)([^<]*)$/;
const NO_VARS = () => undefined;

/** The heredoc marker a word is (`<<EOF`, `<<-"EOF"`, `3<<EOF`), or undefined. */
export function heredocMarker(word: string): HeredocMarker | undefined {
  const match = HEREDOC.exec(word);
  if (match === null || match[3] === "") return undefined;
  let name: string[];
  let raw: string[];
  try {
    name = expandWords(match[3]!, NO_VARS, { skipUnset: true });
    raw = expandWords(match[3]!, NO_VARS, { skipUnset: true, rawQuotes: true });
  } catch {
    return undefined;
  }
  if (name.length !== 1 || raw.length !== 1) return undefined;
  const quotes = (s: string) => s.replace(/[^'"]/g, "").length;
  return {
    name: name[0]!,
    expand: quotes(name[0]!) === quotes(raw[0]!),
    chomp: match[2] === "-",
    fd: match[1] === "" ? 0 : Number(match[1]),
  };
}

/** The heredoc markers among a line's words, in order. */
export function heredocMarkers(text: string): HeredocMarker[] {
  if (!text.includes("<<")) return [];
  let words: string[];
  try {
    words = expandWords(text, NO_VARS, { rawQuotes: true, rawEscapes: true });
  } catch {
    return [];
  }
  return words.map(heredocMarker).filter((m): m is HeredocMarker => m !== undefined);
}
