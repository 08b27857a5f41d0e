/**
 * The lexical layer of `--format` templates: splitting text from `{{ }}`
 * actions (trim markers, comments), tokenizing an action, and the values of
 * Go's quoted literals.
 *
 * @module
 */

/** A template failure; its message is already in Go's words. */
export class GoError extends Error {}

/** A token of an action's body; `pos` and `end` index the whole template. */
export interface Token {
  t: "str" | "num" | "word" | "field" | "var" | "dot" | "op";
  v: string;
  pos: number;
  end: number;
}

/** A run of text, or the body of an action starting at `pos` in the template. */
export type Segment = { text: string } | { body: string; pos: number };

const SPACE = /[ \t\r\n]/;
const TOKEN =
  /\s+|(?<str>"(?:[^"\\\n]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)+')|(?<num>[+-]?(?:0[xX][\da-fA-F_]+|(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))|(?<field>\.[\p{L}_][\p{L}\p{N}_]*)|(?<var>\$[\p{L}\p{N}_]*)|(?<dot>\.)|(?<word>[\p{L}_][\p{L}\p{N}_]*)|(?<op>:=|[|(),=])/uy;

/** The 1-based line and 0-based column of a position, as Go reports them. */
export function where(src: string, pos: number): [number, number] {
  const before = src.slice(0, pos);
  return [before.split("\n").length, pos - (before.lastIndexOf("\n") + 1)];
}

/** A parse error located by line, as Go's `template: :LINE: message`. */
export function syntaxError(src: string, pos: number, message: string): GoError {
  return new GoError(`template: :${where(src, pos)[0]}: ${message}`);
}

/** Splits text from actions, applying trim markers and dropping comments. */
export function segments(src: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    let text = src.slice(i, open === -1 ? undefined : open);
    let start = open + 2;
    if (open !== -1 && src[start] === "-" && SPACE.test(src[start + 1] ?? "")) {
      text = text.replace(/[ \t\r\n]+$/, "");
      start++;
    }
    if (text !== "") out.push({ text });
    if (open === -1) break;
    const close = closing(src, start);
    let end = close;
    if (src[close - 1] === "-" && SPACE.test(src[close - 2] ?? "")) end--;
    const body = src.slice(start, end);
    if (!/^\s*\/\*[\s\S]*\*\/\s*$/.test(body)) out.push({ body, pos: start });
    i = close + 2;
    if (end !== close) { while (i < src.length && SPACE.test(src[i] as string)) i++; }
  }
  return out;
}

/** The index of the `}}` closing an action, skipping quoted text and comments. */
function closing(src: string, from: number): number {
  const skip = /"(?:[^"\\\n]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)*'|\/\*[\s\S]*?\*\/|}}|[^"`'/}]+|./y;
  skip.lastIndex = from;
  for (let m = skip.exec(src); m !== null; m = skip.exec(src)) {
    if (m[0] === "}}") return m.index;
  }
  throw syntaxError(src, from, "unclosed action");
}

/** The tokens of one action's body; whitespace is dropped. */
export function lex(src: string, action: { body: string; pos: number }): Token[] {
  const { body, pos: offset } = action;
  const toks: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < body.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(body);
    if (m === null) {
      throw syntaxError(src, offset + start, `unexpected "${body[start]}" in command`);
    }
    const [t, v] = Object.entries(m.groups ?? {}).find(([, value]) => value !== undefined) ?? [];
    if (t !== undefined) {
      toks.push({
        t: t as Token["t"],
        v: v as string,
        pos: offset + start,
        end: offset + TOKEN.lastIndex,
      });
    }
  }
  return toks;
}

const ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
};

/** A Go string, raw string or rune literal's value (a rune is its code point). */
export function unquote(text: string): string | number {
  if (text.startsWith("`")) return text.slice(1, -1);
  const value = text.slice(1, -1).replace(
    /\\(?:x([\da-fA-F]{2})|u([\da-fA-F]{4})|U([\da-fA-F]{8})|([0-7]{3})|(.))/g,
    (all, x?: string, u?: string, bigU?: string, octal?: string, char?: string) => {
      const hex = x ?? u ?? bigU;
      if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
      if (octal !== undefined) return String.fromCharCode(parseInt(octal, 8));
      const escaped = ESCAPES[char as string];
      if (escaped === undefined) throw new SyntaxError(`invalid escape ${all}`);
      return escaped;
    },
  );
  return text.startsWith("'") ? value.codePointAt(0) as number : value;
}
