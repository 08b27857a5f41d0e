/**
 * Shared output of list commands: Docker's default tables, `--format` with Go
 * templates (`table` prefix for a header, `json` for one JSON object a line),
 * and `--quiet`. The template engine (five modules) loads only for a format
 * that needs it: a default table or JSON prints without it.
 *
 * @module
 */
import { NotFoundError } from "../errors.ts";
import type { FlagSpec } from "./_args.ts";
import type { Context } from "./_command.ts";
import { formatTable } from "./_tabwriter.ts";

/**
 * The key of a view's Go `String()` method: where Docker prints a value
 * through its type's Stringer (a ulimit's `nofile=1024:1024`), berth's view
 * carries this method, and the template engine's printing calls it.
 */
export const GO_STRING: unique symbol = Symbol("berth.goString") as never;

/** A column of a default table: its header and the row field it shows. */
export interface Column {
  header: string;
  field: string;
}

/**
 * Prints rows as Docker does: a default table, or `--format` (Go template,
 * `table TEMPLATE`, or `json`).
 * @param headers header text per field name, for `table` formats
 */
export async function printRows(
  ctx: Context,
  rows: readonly Record<string, unknown>[],
  options: {
    format?: string | undefined;
    columns: readonly Column[];
    /** Header per field; a function for a method's header (`.Label "k"`). */
    headers?: Record<string, unknown>;
  },
): Promise<void> {
  const format = options.format ?? "";
  if (format === "" || format === "table") {
    const table = [
      options.columns.map((c) => c.header),
      ...rows.map((row) => options.columns.map((c) => String(row[c.field] ?? ""))),
    ];
    ctx.print(formatTable(table));
    return;
  }
  if (format === "json") {
    // Docker marshals each row from a map: keys in sorted order.
    for (const row of rows) {
      const sorted = Object.fromEntries(Object.entries(row).sort(([a], [b]) => a < b ? -1 : 1));
      ctx.print(`${goJsonHtml(sorted)}\n`);
    }
    return;
  }
  const { parseFormat, renderTemplate } = await import("./_template.ts");
  const parsed = parseFormat(format);
  const headers: Record<string, unknown> = {};
  for (const c of options.columns) headers[c.field] = c.header;
  Object.assign(headers, options.headers ?? {});
  const lines = rows.map((row) => renderTemplate(parsed.template, row));
  if (parsed.table) {
    const header = renderTemplate(parsed.template, headers);
    ctx.print(formatTable([header, ...lines].map((line) => line.split("\t"))));
  } else {
    for (const line of lines) ctx.print(`${line}\n`);
  }
}

/** `inspect`'s one flag, shared by every inspect command. */
export const INSPECT_FLAGS: FlagSpec[] = [{
  name: "format",
  short: "f",
  type: "string",
  value: "string",
  description: "Format output using a custom template: 'json' or a Go template",
}];

/** Prints `inspect` output: a JSON array (4-space indent, as Docker) or one template line per object. */
export async function printInspect(
  ctx: Context,
  objects: readonly unknown[],
  format?: string,
): Promise<void> {
  if (format === undefined || format === "" || format === "json") {
    ctx.print(`${JSON.stringify(objects, null, 4)}\n`);
    return;
  }
  const { parseFormat, renderTemplate } = await import("./_template.ts");
  const { template } = parseFormat(format);
  for (const object of objects) ctx.print(`${renderTemplate(template, object)}\n`);
}

/**
 * `X inspect REF...`: prints the objects found (see {@linkcode printInspect}),
 * then fails for the ones not found, as Docker does.
 * @throws {NotFoundError} `No such KIND: a, b`
 */
export async function inspectEach(
  ctx: Context,
  refs: readonly string[],
  lookup: (ref: string) => unknown,
  kind: string,
  format?: string,
): Promise<void> {
  const found: unknown[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await lookup(ref));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      missing.push(ref);
    }
  }
  await printInspect(ctx, found, format);
  if (missing.length > 0) throw new NotFoundError(`No such ${kind}: ${missing.join(", ")}`);
}

/** A time as Go's `time.Time.String()` prints it in UTC: `2024-05-01 10:00:00 +0000 UTC`. */
export function goTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}

const HTML_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * JSON as Go's encoding/json writes it by default (Docker's `--format json`
 * rows): `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026`, and U+2028/U+2029
 * escaped, keys in the object's order.
 */
export function goJsonHtml(value: unknown, indent?: string): string {
  return (JSON.stringify(value, null, indent) ?? "null").replace(
    /[<>&\u2028\u2029]/g,
    (c) => HTML_ESCAPES[c]!,
  );
}

/**
 * A string as Go's `strconv.Quote` writes it: in double quotes, with `"` and
 * `\\` escaped, control characters as `\n`, `\t`, `\x07`..., printable
 * Unicode kept.
 */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f) {
      const named: Record<number, string> = {
        7: "a",
        8: "b",
        9: "t",
        10: "n",
        11: "v",
        12: "f",
        13: "r",
      };
      out += named[code] !== undefined
        ? `\\${named[code]}`
        : `\\x${code.toString(16).padStart(2, "0")}`;
    } else if (code >= 0x80 && code < 0xa0) {
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** The header Docker's formatters give `.Label "KEY"`: its last dotted part, `-` and `_` as spaces. */
export function labelHeader(key: unknown): string {
  return String(key).split(".").at(-1)!.replaceAll(/[-_]/g, " ");
}
