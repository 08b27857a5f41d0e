/**
 * `berth rename` and `berth diff`.
 *
 * @module
 */
import type { Command } from "./_command.ts";
import { containerService } from "./_service.ts";

/** `rename CONTAINER NEW_NAME` */
export const rename: Command = {
  usage: "CONTAINER NEW_NAME",
  summary: "Rename a container",
  args: { min: 2, max: 2 },
  flags: [],
  async run(ctx, _flags, args) {
    await containerService(ctx).rename(args[0]!, args[1]!);
    return 0;
  },
};

/** `diff CONTAINER` */
export const diff: Command = {
  usage: "CONTAINER",
  summary: "Inspect changes to files or directories on a container's filesystem",
  args: { min: 1, max: 1 },
  flags: [],
  async run(ctx, _flags, args) {
    for (const change of await containerService(ctx).diff(args[0]!)) {
      ctx.print(`${change.kind} ${change.path}\n`);
    }
    return 0;
  },
};
