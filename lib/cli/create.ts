/**
 * `berth create`: a container from an image, not started; prints its ID.
 *
 * @module
 */
import type { Command } from "./_command.ts";
import { CONTAINER_FLAGS, containerOptions } from "./_container_flags.ts";
import { containerService } from "./_service.ts";

/** `create [OPTIONS] IMAGE [COMMAND] [ARG...]` */
export const create: Command = {
  usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  summary: "Create a new container",
  args: { min: 1 },
  stopAtPositional: true,
  flags: CONTAINER_FLAGS,
  async run(ctx, flags, args) {
    const record = await containerService(ctx).create(containerOptions(flags, args));
    ctx.print(`${record.Id}\n`);
    return 0;
  },
};
