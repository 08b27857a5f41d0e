/**
 * `berth container ...` commands that have no top-level twin: `container
 * prune` (`container inspect` is in inspect.ts, the hidden exit handler in
 * _monitor.ts).
 *
 * @module
 */
import { bool, type Command } from "./_command.ts";
import { confirm } from "./_confirm.ts";
import { containerService } from "./_service.ts";

/** `container prune [OPTIONS]` */
export const containerPrune: Command = {
  usage: "[OPTIONS]",
  summary: "Remove all stopped containers",
  args: { max: 0 },
  flags: [{
    name: "force",
    short: "f",
    type: "bool",
    description: "Do not prompt for confirmation",
  }],
  async run(ctx, flags) {
    if (
      !bool(flags, "force") &&
      !(await confirm(ctx, "WARNING! This will remove all stopped containers."))
    ) return 0;
    const service = containerService(ctx);
    const stopped = (await service.list()).filter((c) => !c.State.Running && !c.State.Restarting);
    if (stopped.length > 0) ctx.print("Deleted Containers:\n");
    for (const c of stopped) {
      await service.remove(c.Id);
      ctx.print(`${c.Id}\n`);
    }
    ctx.print(`${stopped.length > 0 ? "\n" : ""}Total reclaimed space: 0B\n`);
    return 0;
  },
};
