/**
 * `berth system df`: disk usage by object kind.
 *
 * @module
 */
import { Engine, type UsageRow } from "../engine/mod.ts";
import { type Command, str } from "./_command.ts";
import { printRows } from "./_format.ts";
import { humanSize } from "./_units.ts";

/** `system df [OPTIONS]` */
export const df: Command = {
  usage: "[OPTIONS]",
  summary: "Show berth disk usage",
  args: { max: 0 },
  flags: [
    {
      name: "format",
      type: "string",
      value: "string",
      description:
        "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template",
    },
    {
      name: "verbose",
      short: "v",
      type: "bool",
      description: "Show detailed information on space usage",
    },
  ],
  async run(ctx, flags) {
    const usage = Engine.open(ctx.root).diskUsage();
    const row = (type: string, u: UsageRow) => ({
      Type: type,
      TotalCount: u.total,
      Active: u.active,
      Size: humanSize(u.size),
      Reclaimable: `${humanSize(u.reclaimable)} (${
        u.size === 0 ? 0 : Math.round((u.reclaimable / u.size) * 100)
      }%)`,
    });
    const rows = [
      row("Images", usage.images),
      row("Containers", usage.containers),
      // berth has no volumes or build cache yet: these rows are truly empty.
      { Type: "Local Volumes", TotalCount: 0, Active: 0, Size: "0B", Reclaimable: "0B" },
      { Type: "Build Cache", TotalCount: 0, Active: 0, Size: "0B", Reclaimable: "0B" },
    ];
    await printRows(ctx, rows, {
      format: str(flags, "format"),
      columns: [
        { header: "TYPE", field: "Type" },
        { header: "TOTAL", field: "TotalCount" },
        { header: "ACTIVE", field: "Active" },
        { header: "SIZE", field: "Size" },
        { header: "RECLAIMABLE", field: "Reclaimable" },
      ],
    });
    return 0;
  },
};
