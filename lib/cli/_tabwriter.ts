/**
 * Column alignment for `table` output, as Go's text/tabwriter does with
 * Docker's settings.
 *
 * @module
 */

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
