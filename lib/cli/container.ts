/**
 * `berth container ...` commands that have no top-level twin: `container
 * prune` (`container inspect` is in inspect.ts, the hidden exit handler in
 * _monitor.ts).
 *
 * @module
 */
import { bool, type Command, list } from "./_command.ts";
import { confirm } from "./_confirm.ts";
import { containerService } from "./_service.ts";
import { humanSize } from "./_units.ts";
import { FILTER_FLAG, parsePruneFilter, prunable } from "./prune.ts";

/** `container prune [OPTIONS]` */
export const containerPrune: Command = {
  usage: "[OPTIONS]",
  summary: "Remove all stopped containers",
  args: { max: 0 },
  flags: [FILTER_FLAG, {
    name: "force",
    short: "f",
    type: "bool",
    description: "Do not prompt for confirmation",
  }],
  async run(ctx, flags) {
    const filter = parsePruneFilter(list(flags, "filter"));
    if (
      !bool(flags, "force") &&
      !(await confirm(ctx, "WARNING! This will remove all stopped containers."))
    ) return 0;
    const { removed, reclaimed } = await containerService(ctx).prune((c) =>
      !prunable(filter, c.Created, c.Config.Labels)
    );
    if (removed.length > 0) {
      ctx.print(`Deleted Containers:\n${removed.map((id) => `${id}\n`).join("")}\n`);
    }
    ctx.print(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
