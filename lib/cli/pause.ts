/**
 * `berth pause` and `berth unpause`: freeze and thaw a container's processes.
 *
 * @module
 */
import type { Command } from "./_command.ts";
import { forEachName } from "./_each.ts";
import { containerService } from "./_service.ts";

/** `pause CONTAINER [CONTAINER...]` */
export const pause: Command = {
  usage: "CONTAINER [CONTAINER...]",
  summary: "Pause all processes within one or more containers",
  args: { min: 1 },
  flags: [],
  run(ctx, _flags, args) {
    const service = containerService(ctx);
    return forEachName(ctx, args, (name) => service.pause(name));
  },
};

/** `unpause CONTAINER [CONTAINER...]` */
export const unpause: Command = {
  usage: "CONTAINER [CONTAINER...]",
  summary: "Unpause all processes within one or more containers",
  args: { min: 1 },
  flags: [],
  run(ctx, _flags, args) {
    const service = containerService(ctx);
    return forEachName(ctx, args, (name) => service.unpause(name));
  },
};
