/**
 * `--format`: the subset of Go's text/template that Docker users write, with
 * Docker's extra functions (`json`, `join`, `split`, `title`, `lower`,
 * `upper`, `pad`, `truncate`), its `table` prefix and its tabwriter.
 *
 * Supported: text, `{{.A.B}}`, `{{.}}`, `$var` (`:=`, `=`), literals,
 * pipelines `|`, parentheses, `if`/`else if`/`else`, `range` (with
 * `$i, $e :=`, `else`, `break`, `continue`), `with`, comments, trim markers
 * `{{-` and `-}}`, Go's builtins (`and or not len index slice print printf
 * println eq ne lt le gt ge`), and methods: a function-valued field is
 * called with the arguments (`{{.Label "x"}}`).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { formatG } from "./_units.ts";

/** Options for {@linkcode renderTemplate}. */
export interface RenderOptions {
  /**
   * A missing key: `"error"` fails (Go's `missingkey=error`, as `inspect`
   * uses on raw JSON); `"default"` prints `<no value>`.
   * @default "error"
   */
  missingKey?: "error" | "default";
}

/** A `--format` value split into Docker's `table` flag and the template. */
export interface Format {
  table: boolean;
  /** The template; empty for a bare `table`, which means the command's default. */
  template: string;
}

type Arg =
  | { k: "field"; pos: number; text: string; chain: string[] }
  | { k: "var"; pos: number; text: string; name: string; chain: string[] }
  | { k: "pipe"; pos: number; text: string; pipe: Pipe; chain: string[] }
  | { k: "dot" | "ident" | "lit"; pos: number; text: string; value?: unknown };
interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Arg[][];
}
type Node =
  | { k: "text"; text: string }
  | { k: "action"; pos: number; pipe: Pipe }
  | { k: "if" | "with" | "range"; pos: number; pipe: Pipe; list: Node[]; alt: Node[] }
  | { k: "break" | "continue"; pos: number };
interface Token {
  t: "str" | "num" | "word" | "field" | "var" | "dot" | "op";
  v: string;
  pos: number;
  end: number;
}

const NONE = Symbol("none");
const SPACE = /[ \t\r\n]/;
const TOKEN =
  /\s+|(?<str>"(?:[^"\\\n]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)+')|(?<num>[+-]?(?:0[xX][\da-fA-F_]+|(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))|(?<field>\.[\p{L}_][\p{L}\p{N}_]*)|(?<var>\$[\p{L}\p{N}_]*)|(?<dot>\.)|(?<word>[\p{L}_][\p{L}\p{N}_]*)|(?<op>:=|[|(),=])/uy;

class Signal {
  constructor(readonly kind: "break" | "continue") {}
}

class GoError extends Error {}

/** A failure while executing, located at a node like Go's `executing "" at <.X>`. */
class ExecError extends GoError {
  constructor(readonly pos: number, readonly at: string, message: string) {
    super(message);
  }
}

/** A field of a plain object (own keys only) or a method of a class instance. */
function lookup(obj: object, name: string): [boolean, unknown] {
  if (obj instanceof Map) return [obj.has(name), obj.get(name)];
  const found = Object.hasOwn(obj, name) || (name in obj && !(name in Object.prototype));
  return [found, found ? (obj as Record<string, unknown>)[name] : undefined];
}

function where(src: string, pos: number): [number, number] {
  const before = src.slice(0, pos);
  return [before.split("\n").length, pos - (before.lastIndexOf("\n") + 1)];
}

/** Splits text from actions, applying trim markers and dropping comments. */
function segments(src: string): Array<{ text: string } | { body: string; pos: number }> {
  const out: Array<{ text: string } | { body: string; pos: number }> = [];
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
  throw new GoError(`template: :${where(src, from)[0]}: unclosed action`);
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
function unquote(text: string): string | number {
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

class Parser {
  #src: string;
  #toks: Token[] = [];
  #i = 0;
  #rangeDepth = 0;

  constructor(src: string) {
    this.#src = src;
  }

  fail(pos: number, message: string): never {
    throw new GoError(`template: :${where(this.#src, pos)[0]}: ${message}`);
  }

  parse(): Node[] {
    const segs = segments(this.#src);
    let at = 0;
    const list = (): [Node[], string, number] => {
      const nodes: Node[] = [];
      for (; at < segs.length; at++) {
        const seg = segs[at] as { text: string } | { body: string; pos: number };
        if ("text" in seg) {
          nodes.push({ k: "text", text: seg.text });
          continue;
        }
        this.#lex(seg.body, seg.pos);
        const word = this.#peek()?.t === "word" ? this.#peek()?.v : undefined;
        if (word === "end" || word === "else") {
          this.#i++;
          return [nodes, word, seg.pos];
        }
        if (word === "if" || word === "with" || word === "range") {
          at++;
          nodes.push(control(word, seg.pos));
        } else if (word === "break" || word === "continue") {
          if (this.#rangeDepth === 0) this.fail(seg.pos, `{{${word}}} outside {{range}}`);
          nodes.push({ k: word, pos: seg.pos });
        } else if (word === "define" || word === "template" || word === "block") {
          this.fail(seg.pos, `{{${word}}} is not supported`);
        } else {
          nodes.push({ k: "action", pos: seg.pos, pipe: this.#pipe(false) });
        }
      }
      return [nodes, "", this.#src.length];
    };
    const control = (k: "if" | "with" | "range", pos: number): Node => {
      this.#i++;
      const pipe = this.#pipe(k === "range");
      if (k === "range") this.#rangeDepth++;
      const [body, endedBy, endPos] = list();
      if (k === "range") this.#rangeDepth--;
      let alt: Node[] = [];
      if (endedBy === "") this.fail(endPos, "unexpected EOF");
      if (endedBy === "else") {
        const chained = this.#peek();
        if (chained?.v === "if" || chained?.v === "with") {
          at++;
          alt = [control(chained.v, endPos)];
          return { k, pos, pipe, list: body, alt };
        }
        this.#expectEnd();
        at++;
        const [elseBody, elseEnd, elsePos] = list();
        if (elseEnd !== "end") {
          this.fail(elsePos, elseEnd === "" ? "unexpected EOF" : "expected end; found {{else}}");
        }
        alt = elseBody;
      }
      this.#expectEnd();
      return { k, pos, pipe, list: body, alt };
    };
    const [nodes, endedBy, endPos] = list();
    if (endedBy !== "") this.fail(endPos, `unexpected {{${endedBy}}}`);
    return nodes;
  }

  #lex(body: string, offset: number): void {
    this.#toks = [];
    this.#i = 0;
    TOKEN.lastIndex = 0;
    while (TOKEN.lastIndex < body.length) {
      const start = TOKEN.lastIndex;
      const m = TOKEN.exec(body);
      if (m === null) this.fail(offset + start, `unexpected "${body[start]}" in command`);
      const [t, v] = Object.entries(m.groups ?? {}).find(([, value]) => value !== undefined) ?? [];
      if (t !== undefined) {
        this.#toks.push({
          t: t as Token["t"],
          v: v as string,
          pos: offset + start,
          end: offset + TOKEN.lastIndex,
        });
      }
    }
  }

  #peek(): Token | undefined {
    return this.#toks[this.#i];
  }

  #expectEnd(): void {
    const extra = this.#peek();
    if (extra !== undefined) this.fail(extra.pos, `unexpected "${extra.v}" after keyword`);
  }

  #pipe(isRange: boolean, inParens = false): Pipe {
    const decl: string[] = [];
    let assign = false;
    const j = this.#i;
    const names = [this.#toks[j], this.#toks[j + 2]];
    const ops = [this.#toks[j + 1]?.v, this.#toks[j + 3]?.v];
    if (names[0]?.t === "var" && (ops[0] === ":=" || ops[0] === "=")) {
      decl.push(names[0].v);
      assign = ops[0] === "=";
      this.#i += 2;
    } else if (
      isRange && names[0]?.t === "var" && ops[0] === "," && names[1]?.t === "var" && ops[1] === ":="
    ) {
      decl.push(names[0].v, names[1].v);
      this.#i += 4;
    }
    const cmds: Arg[][] = [];
    for (;;) {
      const cmd: Arg[] = [];
      for (
        let tok = this.#peek();
        tok !== undefined && tok.v !== "|" && tok.v !== ")";
        tok = this.#peek()
      ) {
        cmd.push(this.#operand());
      }
      const next = this.#peek();
      if (cmd.length === 0) this.fail(next?.pos ?? 0, "missing value for command");
      cmds.push(cmd);
      if (next === undefined || (next.v === ")" && inParens)) break;
      if (next.v === ")") this.fail(next.pos, `unexpected ")" in command`);
      this.#i++;
    }
    return { decl, assign, cmds };
  }

  #operand(): Arg {
    const tok = this.#toks[this.#i++] as Token;
    let arg: Arg;
    if (tok.t === "op" && tok.v === "(") {
      const pipe = this.#pipe(false, true);
      if (this.#toks[this.#i++]?.v !== ")") this.fail(tok.pos, "unclosed left paren");
      arg = { k: "pipe", pos: tok.pos, text: "", pipe, chain: [] };
    } else if (tok.t === "field") {
      arg = { k: "field", pos: tok.pos, text: "", chain: [tok.v.slice(1)] };
    } else if (tok.t === "var") {
      arg = { k: "var", pos: tok.pos, text: "", name: tok.v, chain: [] };
    } else if (tok.t === "dot") {
      arg = { k: "dot", pos: tok.pos, text: "." };
    } else if (tok.t === "str") {
      let value: unknown;
      try {
        value = unquote(tok.v);
      } catch {
        this.fail(tok.pos, `invalid syntax: ${tok.v}`);
      }
      arg = { k: "lit", pos: tok.pos, text: tok.v, value };
    } else if (tok.t === "num") {
      const value = Number(tok.v.replace(/_/g, ""));
      if (Number.isNaN(value)) this.fail(tok.pos, `bad number syntax: "${tok.v}"`);
      arg = { k: "lit", pos: tok.pos, text: tok.v, value };
    } else if (tok.t === "word" && ["true", "false", "nil"].includes(tok.v)) {
      arg = {
        k: "lit",
        pos: tok.pos,
        text: tok.v,
        value: tok.v === "nil" ? null : tok.v === "true",
      };
    } else if (tok.t === "word" && tok.v in FUNCS) {
      arg = { k: "ident", pos: tok.pos, text: tok.v };
    } else if (tok.t === "word") {
      this.fail(tok.pos, `function "${tok.v}" not defined`);
    } else {
      this.fail(tok.pos, `unexpected "${tok.v}" in operand`);
    }
    let last = this.#toks[this.#i - 1] as Token;
    while ("chain" in arg && this.#peek()?.t === "field" && this.#peek()?.pos === last.end) {
      last = this.#toks[this.#i++] as Token;
      arg.chain.push(last.v.slice(1));
    }
    arg.text = this.#src.slice(tok.pos, last.end);
    return arg;
  }
}

function goType(v: unknown): string {
  if (v === null || v === undefined) return "interface {}";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return "map[string]interface {}";
  return { string: "string", number: "float64", boolean: "bool" }[typeof v as string] ?? typeof v;
}

/** Prints a value as Go's fmt `%v` does with decoded JSON: `[a b]`, `map[k:v]`, `<nil>`. */
export function printValue(v: unknown): string {
  if (v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  if (typeof v === "number") {
    return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : formatG(v);
  }
  if (Array.isArray(v)) {
    return `[${v.map((item) => item === undefined ? "<nil>" : printValue(item)).join(" ")}]`;
  }
  if (v instanceof Map) return printValue(Object.fromEntries(v));
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") {
    const keys = Object.keys(v).sort();
    return `map[${
      keys.map((k) => `${k}:${printValue((v as Record<string, unknown>)[k])}`).join(" ")
    }]`;
  }
  return String(v);
}

function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "string" || Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return typeof v === "number" ? v !== 0 : Boolean(v);
}

/** Go's encoding/json without HTML escaping, as Docker's `json` function writes. */
function goJson(v: unknown): string {
  const text = JSON.stringify(v, (_, x) => x instanceof Map ? Object.fromEntries(x) : x) ?? "null";
  return text.replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function str(v: unknown): string {
  if (typeof v !== "string") {
    throw new GoError(`wrong type for value; expected string; got ${goType(v)}`);
  }
  return v;
}

function int(v: unknown): number {
  if (!Number.isInteger(v)) {
    throw new GoError(`wrong type for value; expected int; got ${goType(v)}`);
  }
  return v as number;
}

function compare(a: unknown, b: unknown, ordered: boolean): number {
  const kinds = [typeof a, typeof b];
  if ((a === null || a === undefined) && (b === null || b === undefined) && !ordered) return 0;
  if (kinds[0] !== kinds[1]) throw new GoError("incompatible types for comparison");
  if (
    !["string", "number", "boolean"].includes(kinds[0] as string) ||
    (ordered && kinds[0] === "boolean")
  ) {
    throw new GoError(ordered ? "invalid type for comparison" : "non-comparable type");
  }
  return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
}

function goIndex(item: unknown, key: unknown): unknown {
  if (Array.isArray(item) || typeof item === "string") {
    const i = int(key);
    if (i < 0 || i >= item.length) {
      throw new GoError(`error calling index: index out of range: ${i}`);
    }
    return typeof item === "string" ? new TextEncoder().encode(item)[i] : item[i];
  }
  if (item === null || item === undefined) {
    // Docker's typed maps (labels) are nil when empty; indexing one yields "".
    if (typeof key === "string") return "";
    throw new GoError("error calling index: index of untyped nil");
  }
  if (typeof item !== "object") {
    throw new GoError(`error calling index: can't index item of type ${goType(item)}`);
  }
  const map = item instanceof Map ? Object.fromEntries(item) : item as Record<string, unknown>;
  if (Object.hasOwn(map, String(key))) return map[String(key)];
  return Object.values(map).every((x) => typeof x === "string") ? "" : null;
}

function sprint(args: unknown[], spaces: boolean): string {
  return args.map((a, i) => {
    const gap = i > 0 && (spaces || (typeof a !== "string" && typeof args[i - 1] !== "string"));
    return (gap ? " " : "") + printValue(a);
  }).join("");
}

function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(
    /%([-+# 0]*)(\d+)?(?:\.(\d+))?([%vsdqtxXfegc])/g,
    (_m, flags: string, w, p, verb) => {
      if (verb === "%") return "%";
      if (n >= args.length) return `%!${verb}(MISSING)`;
      const v = args[n++];
      const prec = p === undefined ? undefined : Number(p);
      let out: string;
      if (verb === "d" && Number.isInteger(v)) out = String(v);
      else if (verb === "q" && typeof v === "string") out = JSON.stringify(v);
      else if ("xX".includes(verb) && typeof v === "number") out = v.toString(16);
      else if ("xX".includes(verb) && typeof v === "string") {
        out = [...new TextEncoder().encode(v)].map((b) => b.toString(16).padStart(2, "0")).join("");
      } else if ("feg".includes(verb) && typeof v === "number") {
        out = verb === "f"
          ? v.toFixed(prec ?? 6)
          : verb === "e"
          ? v.toExponential(prec ?? 6)
          : formatG(v, prec);
        if (verb === "e") out = out.replace(/e([+-])(\d)$/, "e$10$2");
      } else if (verb === "c" && typeof v === "number") out = String.fromCodePoint(v);
      else if ("vst".includes(verb)) {
        out = printValue(v);
        if (prec !== undefined && verb !== "t") out = [...out].slice(0, prec).join("");
      } else return `%!${verb}(${goType(v)}=${printValue(v)})`;
      if (verb === "X") out = out.toUpperCase();
      if (flags.includes("+") && typeof v === "number" && v >= 0) out = `+${out}`;
      const pad = Math.max(0, Number(w ?? 0) - [...out].length);
      if (flags.includes("-")) return out + " ".repeat(pad);
      return flags.includes("0") && typeof v === "number"
        ? out.replace(/^([+-]?)/, `$1${"0".repeat(pad)}`)
        : " ".repeat(pad) + out;
    },
  );
}

type Fn = [min: number, max: number, fn: (...args: unknown[]) => unknown];
const FUNCS: Record<string, Fn> = {
  and: [1, Infinity, () => undefined],
  or: [1, Infinity, () => undefined],
  not: [1, 1, (v) => !truth(v)],
  len: [1, 1, (v) => {
    if (typeof v === "string") return new TextEncoder().encode(v).length;
    if (Array.isArray(v)) return v.length;
    if (v instanceof Map) return v.size;
    if (typeof v === "object" && v !== null) return Object.keys(v).length;
    throw new GoError(
      `error calling len: len of ${
        v === null || v === undefined ? "nil pointer" : `type ${goType(v)}`
      }`,
    );
  }],
  index: [1, Infinity, (item, ...keys) => keys.reduce(goIndex, item)],
  slice: [1, 3, (item, ...bounds) => {
    if (typeof item !== "string" && !Array.isArray(item)) {
      throw new GoError(`error calling slice: can't slice item of type ${goType(item)}`);
    }
    const [from = 0, to = item.length] = bounds.map((b) => int(b));
    if (from < 0 || to > item.length || from > to) {
      throw new GoError(`error calling slice: index out of range: ${to}`);
    }
    return item.slice(from, to);
  }],
  print: [0, Infinity, (...args) => sprint(args, false)],
  println: [0, Infinity, (...args) => `${sprint(args, true)}\n`],
  printf: [1, Infinity, (format, ...args) => sprintf(str(format), args)],
  eq: [2, Infinity, (a, ...bs) => bs.some((b) => compare(a, b, false) === 0)],
  ne: [2, 2, (a, b) => compare(a, b, false) !== 0],
  lt: [2, 2, (a, b) => compare(a, b, true) < 0],
  le: [2, 2, (a, b) => compare(a, b, true) <= 0],
  gt: [2, 2, (a, b) => compare(a, b, true) > 0],
  ge: [2, 2, (a, b) => compare(a, b, true) >= 0],
  json: [1, 1, goJson],
  join: [2, 2, (list, sep) => {
    if (!Array.isArray(list)) {
      throw new GoError(`wrong type for value; expected []string; got ${goType(list)}`);
    }
    return list.map(printValue).join(str(sep));
  }],
  split: [
    2,
    2,
    (s, sep) => str(sep) === "" ? [...str(s)] : str(s).split(sep as string),
  ],
  lower: [1, 1, (s) => str(s).toLowerCase()],
  upper: [1, 1, (s) => str(s).toUpperCase()],
  title: [
    1,
    1,
    (s) => str(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, a, b) => a + b.toUpperCase()),
  ],
  pad: [3, 3, (s, l, r) => " ".repeat(int(l)) + str(s) + " ".repeat(int(r))],
  truncate: [2, 2, (s, n) => [...str(s)].slice(0, int(n)).join("")],
};

/** What `range` iterates: [index or key, element] pairs, map keys sorted; undefined if not iterable. */
function rangeEntries(value: unknown): Array<[unknown, unknown]> | undefined {
  const byKey = (
    [a]: [unknown, unknown],
    [b]: [unknown, unknown],
  ) => (String(a) < String(b) ? -1 : 1);
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map((v, i) => [i, v]);
  if (Number.isInteger(value)) {
    return Array.from({ length: Math.max(0, value as number) }, (_, i) => [i, i]);
  }
  if (value instanceof Map) return [...value.entries()].sort(byKey);
  if (typeof value === "object") return Object.entries(value).sort(byKey);
  return undefined;
}

class Exec {
  #vars: Array<[string, unknown]>;
  #opts: RenderOptions & { header?: boolean };
  #out = "";

  constructor(data: unknown, opts: RenderOptions & { header?: boolean }) {
    this.#vars = [["$", data]];
    this.#opts = opts;
  }

  run(nodes: Node[], dot: unknown): string {
    this.#list(nodes, dot);
    return this.#out;
  }

  #list(nodes: Node[], dot: unknown): void {
    for (const node of nodes) {
      if (node.k === "text") this.#out += node.text;
      else if (node.k === "action") {
        const value = this.#pipe(node.pipe, dot);
        if (node.pipe.decl.length === 0) this.#out += printValue(value);
      } else if (node.k === "if" || node.k === "with" || node.k === "range") {
        this.#scoped(() => this.#control(node, dot));
      } else throw new Signal(node.k);
    }
  }

  #scoped(fn: () => void): void {
    const mark = this.#vars.length;
    try {
      fn();
    } finally {
      this.#vars.length = mark;
    }
  }

  #control(node: Extract<Node, { k: "if" | "with" | "range" }>, dot: unknown): void {
    // range binds its variables per element, not to the whole value.
    const value = this.#pipe(node.k === "range" ? { ...node.pipe, decl: [] } : node.pipe, dot);
    if (node.k !== "range") {
      return this.#list(
        truth(value) ? node.list : node.alt,
        node.k === "with" && truth(value) ? value : dot,
      );
    }
    const entries = rangeEntries(value);
    if (entries === undefined) {
      const at = node.pipe.cmds[0]?.[0];
      throw new ExecError(
        at?.pos ?? node.pos,
        at?.text ?? "",
        `range can't iterate over ${printValue(value)}`,
      );
    }
    if (entries.length === 0) return this.#list(node.alt, dot);
    const names = node.pipe.decl;
    for (const [key, item] of entries) {
      const mark = this.#vars.length;
      if (names.length === 1) this.#vars.push([names[0] as string, item]);
      if (names.length === 2) {
        this.#vars.push([names[0] as string, key], [names[1] as string, item]);
      }
      try {
        this.#list(node.list, item);
      } catch (e) {
        if (!(e instanceof Signal)) throw e;
        if (e.kind === "break") break;
      } finally {
        this.#vars.length = mark;
      }
    }
  }

  #pipe(pipe: Pipe, dot: unknown): unknown {
    let value: unknown = NONE;
    for (const cmd of pipe.cmds) value = this.#command(cmd, dot, value);
    for (const name of pipe.decl) {
      const slot = this.#vars.findLast(([n]) => n === name);
      if (!pipe.assign) this.#vars.push([name, value]);
      else if (slot === undefined) throw new GoError(`undefined variable: ${name}`);
      else slot[1] = value;
    }
    return value;
  }

  #command(cmd: Arg[], dot: unknown, final: unknown): unknown {
    const [first, ...rest] = cmd as [Arg, ...Arg[]];
    try {
      if (first.k === "ident") return this.#call(first.text, rest, dot, final);
      if (first.k === "field") return this.#chain(dot, first.chain, rest, dot, final);
      if (first.k === "var" || first.k === "pipe") {
        const base = first.k === "pipe" ? this.#pipe(first.pipe, dot) : this.#variable(first.name);
        return this.#chain(base, first.chain, rest, dot, final);
      }
      if (rest.length > 0 || final !== NONE) {
        throw new GoError(`can't give argument to non-function ${first.text}`);
      }
      return first.k === "dot" ? dot : first.value;
    } catch (e) {
      if (!(e instanceof GoError) || e instanceof ExecError) throw e;
      throw new ExecError(first.pos, first.text, e.message);
    }
  }

  #variable(name: string): unknown {
    const slot = this.#vars.findLast(([n]) => n === name);
    if (slot === undefined) throw new GoError(`undefined variable: ${name}`);
    return slot[1];
  }

  #arg(arg: Arg, dot: unknown): unknown {
    return arg.k === "pipe" || arg.k === "ident" || arg.k === "field" || arg.k === "var"
      ? this.#command([arg], dot, NONE)
      : arg.k === "dot"
      ? dot
      : arg.value;
  }

  #call(name: string, args: Arg[], dot: unknown, final: unknown): unknown {
    const [min, max, fn] = FUNCS[name] as Fn;
    const count = args.length + (final === NONE ? 0 : 1);
    if (count < min || count > max) {
      throw new GoError(
        `wrong number of args for ${name}: want ${
          min === max ? min : `at least ${min}`
        } got ${count}`,
      );
    }
    if (name === "and" || name === "or") {
      let value: unknown;
      for (let i = 0; i < count; i++) {
        value = i < args.length ? this.#arg(args[i] as Arg, dot) : final;
        if (truth(value) === (name === "or")) return value;
      }
      return value;
    }
    const values = args.map((a) => this.#arg(a, dot));
    return fn(...(final === NONE ? values : [...values, final]));
  }

  #chain(receiver: unknown, chain: string[], args: Arg[], dot: unknown, final: unknown): unknown {
    chain.forEach((name, i) => {
      const last = i === chain.length - 1;
      receiver = this.#field(receiver, name, last ? args : [], dot, last ? final : NONE);
    });
    if (chain.length === 0 && (args.length > 0 || final !== NONE)) {
      throw new GoError("can't give argument to non-function");
    }
    return receiver;
  }

  #field(receiver: unknown, name: string, args: Arg[], dot: unknown, final: unknown): unknown {
    const hasArgs = args.length > 0 || final !== NONE;
    if (receiver === undefined) {
      if (this.#opts.missingKey !== "default") {
        throw new GoError(`nil data; no entry for key "${name}"`);
      }
      return undefined;
    }
    if (this.#opts.header && (typeof receiver !== "object" || receiver === null)) return "";
    if (receiver === null) throw new GoError(`nil pointer evaluating interface {}.${name}`);
    if (typeof receiver !== "object" || Array.isArray(receiver)) {
      throw new GoError(`can't evaluate field ${name} in type ${goType(receiver)}`);
    }
    const [found, value] = lookup(receiver, name);
    if (typeof value === "function") {
      const values = args.map((a) => this.#arg(a, dot));
      return value.apply(receiver, final === NONE ? values : [...values, final]);
    }
    if (hasArgs && !this.#opts.header) {
      throw new GoError(`${name} is not a method but has arguments`);
    }
    if (found) return value;
    if (this.#opts.header) return "";
    if (this.#opts.missingKey === "default") return undefined;
    throw new GoError(`map has no entry for key "${name}"`);
  }
}

const CACHE = new Map<string, Node[]>();

function compile(template: string): Node[] {
  let nodes = CACHE.get(template);
  if (nodes === undefined) {
    nodes = new Parser(template).parse();
    if (CACHE.size > 64) CACHE.clear();
    CACHE.set(template, nodes);
  }
  return nodes;
}

function execute(
  template: string,
  data: unknown,
  opts: RenderOptions & { header?: boolean },
): string {
  try {
    return new Exec(data, opts).run(compile(template), data);
  } catch (error) {
    if (!(error instanceof GoError)) throw error;
    const text = error instanceof ExecError
      ? `template: :${
        where(template, error.pos).join(":")
      }: executing "" at <${error.at}>: ${error.message}`
      : error.message;
    throw new UsageError(`Template parsing error: ${text}`, { cause: error });
  }
}

/**
 * Renders a Go template against data.
 * @param template the template text (after {@linkcode parseFormat})
 * @param data the value of `.`; plain objects and Maps act as Go maps, functions as methods
 * @param options missing-key behaviour
 * @returns the rendered text
 * @throws {UsageError} (exit 125) `Template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"`
 */
export function renderTemplate(
  template: string,
  data: unknown,
  options: RenderOptions = {},
): string {
  return execute(template, data, options);
}

/**
 * Renders a table's header row: Docker executes the row template against a
 * map of column titles (`{ ID: "IMAGE ID", Repository: "REPOSITORY" }`).
 * Unknown fields print empty and method arguments are ignored.
 * @throws {UsageError} when the template does not parse
 */
export function renderHeader(template: string, headers: Record<string, string>): string {
  return execute(template, headers, { header: true });
}

/**
 * Splits a `--format` value as Docker's formatter does: a `table` prefix,
 * spaces trimmed, the two-character sequences `\t` and `\n` made real, and
 * `json` meaning `{{json .}}`.
 */
export function parseFormat(format: string): Format {
  const table = format.startsWith("table");
  const body = (table ? format.slice("table".length) : format).replace(/^ +| +$/g, "");
  const template = body.replaceAll("\\t", "\t").replaceAll("\\n", "\n");
  return { table, template: !table && template === "json" ? "{{json .}}" : template };
}

/** Options for {@linkcode tabwrite}. */
export interface TableOptions {
  /** Minimum cell width, padding included. @default 10 */
  minWidth?: number;
  /** Spaces added to the widest cell of a column. @default 3 */
  padding?: number;
}

/**
 * Aligns tab-separated text as Go's text/tabwriter does with Docker's
 * settings (`NewWriter(out, 10, 1, 3, ' ', 0)`): a column block spans
 * consecutive lines that have that cell; text after a line's last tab is
 * not padded.
 * @param text lines of tab-terminated cells
 * @returns the aligned text
 */
export function tabwrite(text: string, options: TableOptions = {}): string {
  const { minWidth = 10, padding = 3 } = options;
  const trailing = text.endsWith("\n");
  const lines = (trailing ? text.slice(0, -1) : text).split("\n").map((line) => line.split("\t"));
  const width = (s: string) => [...s].length;
  const widths: number[][] = lines.map(() => []);
  const block = (from: number, to: number, column: number): void => {
    for (let i = from; i < to;) {
      if (column >= (lines[i] as string[]).length - 1) {
        i++;
        continue;
      }
      let w = minWidth;
      let j = i;
      for (; j < to && column < (lines[j] as string[]).length - 1; j++) {
        w = Math.max(w, width((lines[j] as string[])[column] as string) + padding);
      }
      for (let k = i; k < j; k++) (widths[k] as number[])[column] = w;
      block(i, j, column + 1);
      i = j;
    }
  };
  block(0, lines.length, 0);
  const out = lines.map((cells, i) =>
    cells.map((cell, c) =>
      c < cells.length - 1
        ? cell + " ".repeat(((widths[i] as number[])[c] ?? 0) - width(cell))
        : cell
    ).join("")
  );
  return out.join("\n") + (trailing ? "\n" : "");
}

/** Aligns rows of cells with {@linkcode tabwrite}; each row ends with a newline. */
export function formatTable(rows: string[][], options: TableOptions = {}): string {
  return tabwrite(rows.map((row) => `${row.join("\t")}\n`).join(""), options);
}
