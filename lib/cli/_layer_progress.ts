/**
 * Docker's per-layer progress for pull and push (`<id>: Downloading [==>  ]
 * 1.2MB/3.4MB`). On a terminal each layer keeps one line, redrawn in place
 * with ANSI cursor moves (as Docker's jsonmessage does); otherwise a line is
 * printed only when a layer changes state, and progress updates are dropped.
 *
 * @module
 */
import type { PullEvent } from "../engine/mod.ts";
import type { Context } from "./_command.ts";
import { renderBar } from "./_progress.ts";

/** Renders a stream of pull or push events. */
export interface LayerProgress {
  event(event: PullEvent): void;
}

/** Redraws of one layer's bar are at most this often. */
const REDRAW_MS = 100;

/** A renderer writing to stdout, or nothing at all when `quiet`. */
export function layerProgress(ctx: Context, quiet = false): LayerProgress {
  if (quiet) return { event() {} };
  if (!ctx.stdoutIsTerminal) return plain(ctx);
  const rows = new Map<string, { line: number; status: string; drawn: number }>();
  let lines = 0;
  return {
    event(e) {
      const text = e.id === undefined ? e.status : line(e);
      if (e.id === undefined) {
        ctx.print(`${text}\n`);
        lines++;
        return;
      }
      const row = rows.get(e.id);
      if (row === undefined) {
        rows.set(e.id, { line: lines++, status: e.status, drawn: Date.now() });
        ctx.print(`${text}\n`);
        return;
      }
      const now = Date.now();
      const same = row.status === e.status && e.current !== undefined;
      if (same && now - row.drawn < REDRAW_MS && e.current !== e.total) return;
      row.status = e.status;
      row.drawn = now;
      const up = lines - row.line;
      ctx.print(`\x1b[${up}A\r\x1b[2K${text}\r\x1b[${up}B`);
    },
  };
}

function line(e: PullEvent): string {
  const label = `${e.id}: ${e.status}`;
  return e.current === undefined ? label : renderBar(label, e.current, e.total);
}

function plain(ctx: Context): LayerProgress {
  const last = new Map<string, string>();
  return {
    event(e) {
      if (e.current !== undefined) return;
      if (e.id !== undefined) {
        if (last.get(e.id) === e.status) return;
        last.set(e.id, e.status);
      }
      ctx.print(`${e.id === undefined ? e.status : `${e.id}: ${e.status}`}\n`);
    },
  };
}
