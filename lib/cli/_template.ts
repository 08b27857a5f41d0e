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
import { execute, type RenderOptions } from "./_template_exec.ts";

export { printValue } from "./_template_funcs.ts";
export { formatTable, type TableOptions, tabwrite } from "./_tabwriter.ts";
export type { RenderOptions };

/** A `--format` value split into Docker's `table` flag and the template. */
export interface Format {
  table: boolean;
  /** The template; empty for a bare `table`, which means the command's default. */
  template: string;
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
