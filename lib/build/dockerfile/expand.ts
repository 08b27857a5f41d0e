/**
 * Variable substitution as BuildKit's shell lexer does it for the
 * instructions Docker expands ("Environment replacement" in the Dockerfile
 * reference): `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}`,
 * `${VAR-word}`, `${VAR+word}`, `${VAR:?msg}`, `${VAR?msg}`, quote removal
 * (nothing expands inside single quotes) and the escape character.
 *
 * @module
 */
import { InvalidError } from "../../errors.ts";

/** The variables in scope: a map or a lookup function. */
export type Vars = ReadonlyMap<string, string> | ((name: string) => string | undefined);

/** Options for {@linkcode expandWord} and {@linkcode expandWords}. */
export interface ExpandOptions {
  /** The Dockerfile's escape character (`# escape=`). @default "\\" */
  escape?: string;
  /** Keep quote characters in the result instead of removing them. @default false */
  rawQuotes?: boolean;
  /** Keep escape characters in the result instead of removing them. @default false */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written. @default false */
  skipUnset?: boolean;
  /**
   * Read as a heredoc body: quotes are plain text and the escape character
   * only escapes `$`, a backtick, itself and a newline, as in sh.
   * @default false
   */
  heredoc?: boolean;
}

const SPECIAL_PARAMS = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);

/** Collects the words of a ProcessWords-style expansion. */
class Words {
  words: string[] = [];
  #word = "";
  #inWord = false;

  addChar(ch: string): void {
    if (/\s/.test(ch) && this.#inWord) {
      this.words.push(this.#word);
      this.#word = "";
      this.#inWord = false;
    } else if (!/\s/.test(ch)) this.addRawChar(ch);
  }
  addRawChar(ch: string): void {
    this.#word += ch;
    this.#inWord = true;
  }
  addString(text: string): void {
    for (const ch of text) this.addChar(ch);
  }
  addRawString(text: string): void {
    this.#word += text;
    this.#inWord = true;
  }
  result(): string[] {
    return this.#inWord ? [...this.words, this.#word] : this.words;
  }
}

class Lexer {
  #src: string[];
  #pos = 0;
  #lookup: (name: string) => string | undefined;
  #escape: string;
  #rawQuotes: boolean;
  #rawEscapes: boolean;
  #skipUnset: boolean;
  #heredoc: boolean;

  constructor(src: string, vars: Vars, options: ExpandOptions) {
    this.#src = [...src];
    this.#lookup = typeof vars === "function" ? vars : (name) => vars.get(name);
    this.#escape = options.escape ?? "\\";
    this.#rawQuotes = options.rawQuotes ?? false;
    this.#rawEscapes = options.rawEscapes ?? false;
    this.#skipUnset = options.skipUnset ?? false;
    this.#heredoc = options.heredoc ?? false;
  }

  #peek(): string | undefined {
    return this.#src[this.#pos];
  }
  #next(): string | undefined {
    return this.#src[this.#pos++];
  }

  /** Reads up to `stop` (or the end); returns the text and its words. */
  process(stop?: string, rawEscapes = this.#rawEscapes): { text: string; words: string[] } {
    const saved = this.#rawEscapes;
    this.#rawEscapes = rawEscapes;
    try {
      return this.#processStopOn(stop);
    } finally {
      this.#rawEscapes = saved;
    }
  }

  #processStopOn(stop: string | undefined): { text: string; words: string[] } {
    let text = "";
    const words = new Words();
    while (this.#peek() !== undefined) {
      const ch = this.#peek()!;
      if (stop !== undefined && ch === stop) {
        this.#next();
        return { text, words: words.result() };
      }
      if (ch === "$") {
        const value = this.#processDollar();
        text += value;
        words.addString(value);
      } else if ((ch === "'" || ch === '"') && !this.#heredoc) {
        const value = ch === "'" ? this.#singleQuote() : this.#doubleQuote();
        text += value;
        words.addRawString(value);
      } else {
        let c = this.#next()!;
        if (c === this.#escape && this.#heredoc) {
          const after = this.#peek();
          if (after === "$" || after === "`" || after === c || after === "\n") c = this.#next()!;
        } else if (c === this.#escape) {
          if (this.#rawEscapes) {
            words.addRawChar(c);
            text += c;
          }
          const escaped = this.#next();
          if (escaped === undefined) break;
          c = escaped;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        text += c;
      }
    }
    if (stop !== undefined) {
      throw new InvalidError(`unexpected end of statement while looking for matching ${stop}`);
    }
    return { text, words: words.result() };
  }

  #singleQuote(): string {
    // Everything up to the next ' is literal, escapes included.
    this.#next();
    let out = this.#rawQuotes ? "'" : "";
    for (;;) {
      const ch = this.#next();
      if (ch === undefined) {
        throw new InvalidError(
          "unexpected end of statement while looking for matching single-quote",
        );
      }
      if (ch === "'") break;
      out += ch;
    }
    return this.#rawQuotes ? out + "'" : out;
  }

  #doubleQuote(): string {
    // Literal up to the next ", except $ and the escape of ", $ and itself.
    this.#next();
    let out = this.#rawQuotes ? '"' : "";
    for (;;) {
      const ch = this.#peek();
      if (ch === undefined) {
        throw new InvalidError(
          "unexpected end of statement while looking for matching double-quote",
        );
      }
      if (ch === '"') {
        this.#next();
        if (this.#rawQuotes) out += '"';
        return out;
      }
      if (ch === "$") {
        out += this.#processDollar();
        continue;
      }
      let c = this.#next()!;
      if (c === this.#escape) {
        if (this.#rawEscapes) out += c;
        const after = this.#peek();
        if (after === undefined) continue;
        if (after === '"' || after === "$" || after === this.#escape) c = this.#next()!;
      }
      out += c;
    }
  }

  #name(): string {
    let name = "";
    for (let ch = this.#peek(); ch !== undefined; ch = this.#peek()) {
      if (name === "" && /\d/.test(ch)) {
        while (this.#peek() !== undefined && /\d/.test(this.#peek()!)) name += this.#next();
        return name;
      }
      if (name === "" && SPECIAL_PARAMS.has(ch)) return this.#next()!;
      if (!/[\p{L}\p{Nd}_]/u.test(ch)) break;
      name += this.#next();
    }
    return name;
  }

  #processDollar(): string {
    this.#next();
    if (this.#peek() !== "{") {
      const name = this.#name();
      if (name === "") return "$";
      const value = this.#lookup(name);
      if (value === undefined && this.#skipUnset) return `$${name}`;
      return value ?? "";
    }
    this.#next();
    const first = this.#peek();
    if (first === undefined) throw new InvalidError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") {
      throw new InvalidError("syntax error: bad substitution");
    }
    const name = this.#name();
    const op = this.#next();
    const value = this.#lookup(name);
    switch (op) {
      case "}":
        if (value === undefined && this.#skipUnset) return `\${${name}}`;
        return value ?? "";
      case ":": {
        const modifier = this.#next() ?? "";
        const word = this.#word();
        if (value === undefined && this.#skipUnset) return `\${${name}:${modifier}${word}}`;
        if (modifier === "+") return value ? word : "";
        if (modifier === "-") return value ? value : word;
        if (modifier === "?") {
          if (!value) {
            throw new InvalidError(
              `${name}: ${
                word ||
                (value === undefined ? "is not allowed to be unset" : "is not allowed to be empty")
              }`,
            );
          }
          return value;
        }
        throw new InvalidError(`unsupported modifier (${modifier}) in substitution`);
      }
      case "+":
      case "-":
      case "?": {
        const word = this.#word();
        if (value === undefined && this.#skipUnset) return `\${${name}${op}${word}}`;
        if (op === "+") return value === undefined ? "" : word;
        if (op === "-") return value ?? word;
        if (value === undefined) {
          throw new InvalidError(`${name}: ${word || "is not allowed to be unset"}`);
        }
        return value;
      }
      case undefined:
        throw new InvalidError("syntax error: missing '}'");
      default:
        throw new InvalidError(`unsupported modifier (${op}) in substitution`);
    }
  }

  /** The word of `${name:-word}` up to the closing brace. */
  #word(): string {
    try {
      return this.process("}", true).text;
    } catch (error) {
      if (this.#peek() === undefined) throw new InvalidError("syntax error: missing '}'");
      throw error;
    }
  }
}

/**
 * Expands one word (quotes and escapes removed, no word splitting), as Docker
 * does for ENV/LABEL values, COPY paths, WORKDIR, USER...
 * @throws {InvalidError} on an unterminated quote or a bad `${...}`
 */
export function expandWord(word: string, vars: Vars, options: ExpandOptions = {}): string {
  return new Lexer(word, vars, options).process().text;
}

/**
 * Expands a text and splits it into words, as Docker does for EXPOSE (and the
 * way heredoc markers are found on a line).
 * @throws {InvalidError} on an unterminated quote or a bad `${...}`
 */
export function expandWords(text: string, vars: Vars, options: ExpandOptions = {}): string[] {
  return new Lexer(text, vars, options).process().words;
}

/**
 * Expands variables in a heredoc's body as sh does for an unquoted marker:
 * quotes are text, and only `\$`, `` \` ``, `\\` and `\newline` are escapes.
 */
export function expandHeredoc(content: string, vars: Vars): string {
  return expandWord(content, vars, { heredoc: true });
}
