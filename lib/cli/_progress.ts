/**
 * Docker-style progress bars (`Loading layer [====>   ]  12.3MB/45.6MB`) drawn
 * on a terminal only; when output is not a terminal nothing is drawn.
 *
 * @module
 */
import type { Context } from "./_command.ts";
import { humanSize } from "./_units.ts";

const WIDTH = 50;

/** Renders one bar line, as Docker's jsonmessage does. */
export function renderBar(label: string, current: number, total?: number): string {
  if (total === undefined || total <= 0) return `${label}  ${humanSize(current)}`;
  const ratio = Math.min(1, current / total);
  const filled = Math.floor(ratio * WIDTH);
  const bar = "=".repeat(filled) + (filled < WIDTH ? ">" : "") +
    " ".repeat(Math.max(0, WIDTH - filled - 1));
  return `${label} [${bar}]  ${humanSize(current)}/${humanSize(total)}`;
}

/** A progress reporter: `update` redraws at most every 100 ms, `done` ends the line. */
export interface Progress {
  update(label: string, current: number, total?: number): void;
  done(finalLine?: string): void;
}

/** A progress bar on stderr when it is a terminal; silent otherwise. */
export function progressFor(ctx: Context): Progress {
  if (!ctx.stderrIsTerminal) return { update() {}, done() {} };
  let last = 0;
  let drawn = false;
  return {
    update(label, current, total) {
      const now = Date.now();
      if (now - last < 100 && !(total !== undefined && current >= total)) return;
      last = now;
      drawn = true;
      ctx.printErr(`\r\x1b[K${renderBar(label, current, total)}`);
    },
    done(finalLine) {
      if (drawn) ctx.printErr("\r\x1b[K");
      if (finalLine !== undefined) ctx.printErr(`${finalLine}\n`);
      drawn = false;
    },
  };
}
