/**
 * Parses a `--format` template into a tree of text, actions and
 * `if`/`with`/`range` blocks, failing with Go's parse error messages.
 *
 * @module
 */
import { FUNCS } from "./_template_funcs.ts";
import { lex, type Segment, segments, syntaxError, type Token, unquote } from "./_template_lex.ts";

/** An operand: a field chain, a variable, a parenthesized pipeline, `.`, a function or a literal. */
export type Arg =
  | { k: "field"; pos: number; text: string; chain: string[] }
  | { k: "var"; pos: number; text: string; name: string; chain: string[] }
  | { k: "pipe"; pos: number; text: string; pipe: Pipe; chain: string[] }
  | { k: "dot" | "ident" | "lit"; pos: number; text: string; value?: unknown };
/** A pipeline: commands joined by `|`, optionally declaring (`:=`) or assigning (`=`) variables. */
export interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Arg[][];
}
/** A node of the parsed template. */
export type Node =
  | { k: "text"; text: string }
  | { k: "action"; pos: number; pipe: Pipe }
  | { k: "if" | "with" | "range"; pos: number; pipe: Pipe; list: Node[]; alt: Node[] }
  | { k: "break" | "continue"; pos: number };

class Parser {
  #src: string;
  #toks: Token[] = [];
  #i = 0;
  #rangeDepth = 0;

  constructor(src: string) {
    this.#src = src;
  }

  /** Throws a parse error at a position. */
  fail(pos: number, message: string): never {
    throw syntaxError(this.#src, pos, message);
  }

  parse(): Node[] {
    const segs = segments(this.#src);
    let at = 0;
    const list = (): [Node[], string, number] => {
      const nodes: Node[] = [];
      for (; at < segs.length; at++) {
        const seg = segs[at] as Segment;
        if ("text" in seg) {
          nodes.push({ k: "text", text: seg.text });
          continue;
        }
        this.#toks = lex(this.#src, seg);
        this.#i = 0;
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

/**
 * Parses a template.
 * @param src the template text
 * @returns the top-level nodes
 * @throws {GoError} `template: :1: function "x" not defined`
 */
export function parse(src: string): Node[] {
  return new Parser(src).parse();
}
