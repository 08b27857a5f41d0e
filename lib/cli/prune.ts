/**
 * `berth image prune` (dangling images, or with `-a` all unused ones) and
 * the `--filter until=`/`label=`/`label!=` that every prune command takes.
 *
 * @module
 */
import { EngineError } from "../errors.ts";
import { Engine } from "../engine/mod.ts";
import { bool, type Command, list } from "./_command.ts";
import { confirm } from "./_confirm.ts";
import { hasLabel } from "./_filters.ts";
import { humanSize } from "./_units.ts";
import { parseEventTime } from "./events.ts";

/** A prune's `--filter`: objects created before `until` (ms), with or without labels. */
export interface PruneFilter {
  until?: number;
  labels: string[];
  notLabels: string[];
}

/**
 * Parses prune `--filter` values (`until=`, `label=`, `label!=`).
 * @throws {EngineError} Docker's `invalid filter 'x'` (exit 1)
 */
export function parsePruneFilter(values: readonly string[]): PruneFilter {
  const out: PruneFilter = { labels: [], notLabels: [] };
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq < 0) throw new EngineError(`Bad format of filter (expected name=value): ${v}`);
    const key = v.slice(0, eq);
    const value = v.slice(eq + 1);
    if (key === "until") {
      out.until = Number(parseEventTime(value) / 1_000_000n);
    } else if (key === "label") out.labels.push(value);
    else if (key === "label!") out.notLabels.push(value);
    else throw new EngineError(`invalid filter '${key}'`, { exitCode: 1 });
  }
  return out;
}

/** Whether an object (its creation time and labels) is to be pruned under the filter. */
export function prunable(
  filter: PruneFilter,
  created: string | number,
  labels: Readonly<Record<string, string>> | null | undefined,
): boolean {
  const l = labels ?? {};
  if (filter.until !== undefined) {
    const t = typeof created === "number" ? created : Date.parse(created);
    if (!(t < filter.until)) return false;
  }
  return filter.labels.every((w) => hasLabel(l, w)) &&
    !filter.notLabels.some((w) => hasLabel(l, w));
}

/** `--filter` as every prune command has it. */
export const FILTER_FLAG = {
  name: "filter",
  type: "list",
  value: "filter",
  description: 'Provide filter values (e.g. "until=<timestamp>")',
} as const;

/** `image prune [OPTIONS]` */
export const imagePrune: Command = {
  usage: "[OPTIONS]",
  summary: "Remove unused images",
  args: { max: 0 },
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Remove all unused images, not just dangling ones",
    },
    FILTER_FLAG,
    { name: "force", short: "f", type: "bool", description: "Do not prompt for confirmation" },
  ],
  async run(ctx, flags) {
    const filter = parsePruneFilter(list(flags, "filter"));
    const all = bool(flags, "all");
    const warning = all
      ? "WARNING! This will remove all images without at least one container associated to them."
      : "WARNING! This will remove all dangling images.";
    if (!bool(flags, "force") && !(await confirm(ctx, warning))) return 0;
    const report = await Engine.open(ctx.root).pruneImages({
      all,
      filter: (i) => prunable(filter, i.config.created ?? 0, i.config.config?.Labels),
    });
    if (report.events.length > 0) {
      ctx.print("Deleted Images:\n");
      for (const event of report.events) {
        ctx.print(`${event.action.toLowerCase()}: ${event.value}\n`);
      }
      ctx.print("\n");
    }
    ctx.print(`Total reclaimed space: ${humanSize(report.reclaimed)}\n`);
    return 0;
  },
};
