/**
 * Shared output of list commands: Docker's default tables, `--format` with Go
 * templates (`table` prefix for a header, `json` for one JSON object a line),
 * and `--quiet`. The template engine (five modules) loads only for a format
 * that needs it: a default table or JSON prints without it.
 *
 * @module
 */
import type { FlagSpec } from "./_args.ts";
import type { Context } from "./_command.ts";
import { formatTable } from "./_tabwriter.ts";

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
    headers?: Record<string, string>;
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
    for (const row of rows) ctx.print(`${JSON.stringify(row)}\n`);
    return;
  }
  const { parseFormat, renderTemplate } = await import("./_template.ts");
  const parsed = parseFormat(format);
  const headers: Record<string, string> = {};
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

/** A time as Go's `time.Time.String()` prints it in UTC: `2024-05-01 10:00:00 +0000 UTC`. */
export function goTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}
