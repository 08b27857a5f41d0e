/**
 * Go's value printing (`%v`, `printf`) and the functions a `--format`
 * template can call: Go's builtins and Docker's additions.
 *
 * @module
 */
import { GO_STRING } from "./_format.ts";
import { formatG } from "./_units.ts";
import { GoError } from "./_template_lex.ts";

/** The Go type that decoded JSON gives a value, for error messages. */
export function goType(v: unknown): string {
  if (v === null || v === undefined) return "interface {}";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return "map[string]interface {}";
  return { string: "string", number: "float64", boolean: "bool" }[typeof v as string] ?? typeof v;
}

/** Prints a value as Go's fmt `%v` does with decoded JSON: `[a b]`, `map[k:v]`, `<nil>`. */
export function printValue(v: unknown): string {
  if (v === undefined) return "<no value>";
  const goString = typeof v === "object" && v !== null
    ? (v as Record<symbol, unknown>)[GO_STRING]
    : undefined;
  if (typeof goString === "function") return String(goString.call(v));
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

/** Go template truth: false, 0, nil and empty strings, lists and maps are false. */
export function truth(v: unknown): boolean {
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

/** A function: its argument counts (min, max) and body. */
export type Fn = [min: number, max: number, fn: (...args: unknown[]) => unknown];
/** The functions a template can call, by name. `and`/`or` are evaluated lazily by the executor. */
export const FUNCS: Record<string, Fn> = {
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
