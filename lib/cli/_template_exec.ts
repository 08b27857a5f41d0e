/**
 * Executes a parsed `--format` template against data, as Go's text/template
 * does: plain objects and Maps act as Go maps, functions as methods.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { type Fn, FUNCS, goType, printValue, truth } from "./_template_funcs.ts";
import { GoError, where } from "./_template_lex.ts";
import { type Arg, type Node, parse, type Pipe } from "./_template_parse.ts";

/** Options for `renderTemplate`. */
export interface RenderOptions {
  /**
   * A missing key: `"error"` fails (Go's `missingkey=error`, as `inspect`
   * uses on raw JSON); `"default"` prints `<no value>`.
   * @default "error"
   */
  missingKey?: "error" | "default";
}

/** Options for {@linkcode execute}: {@linkcode RenderOptions}, plus header mode. */
export type ExecOptions = RenderOptions & { header?: boolean };

const NONE = Symbol("none");

class Signal {
  constructor(readonly kind: "break" | "continue") {}
}

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
  #opts: ExecOptions;
  #out = "";

  constructor(data: unknown, opts: ExecOptions) {
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
    nodes = parse(template);
    if (CACHE.size > 64) CACHE.clear();
    CACHE.set(template, nodes);
  }
  return nodes;
}

/**
 * Parses (with a small cache) and executes a template.
 * @param template the template text
 * @param data the value of `.` and `$`
 * @param opts missing-key behaviour; `header` renders a table header
 * @returns the rendered text
 * @throws {UsageError} `Template parsing error: ...` with Go's message
 */
export function execute(
  template: string,
  data: unknown,
  opts: ExecOptions,
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
