/**
 * `berth image prune`: removes dangling images, or with `-a` all unused ones.
 *
 * @module
 */
import { Engine } from "../engine/mod.ts";
import { bool, type Command } from "./_command.ts";
import { confirm } from "./_confirm.ts";
import { humanSize } from "./_units.ts";

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
    { name: "force", short: "f", type: "bool", description: "Do not prompt for confirmation" },
  ],
  async run(ctx, flags) {
    const all = bool(flags, "all");
    const warning = all
      ? "WARNING! This will remove all images without at least one container associated to them."
      : "WARNING! This will remove all dangling images.";
    if (!bool(flags, "force") && !(await confirm(ctx, warning))) return 0;
    const report = await Engine.open(ctx.root).pruneImages({ all });
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
