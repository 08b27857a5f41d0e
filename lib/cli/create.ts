/**
 * `berth create`: a container from an image, not started; prints its ID.
 *
 * @module
 */
import type { Command } from "./_command.ts";
import { attachStreams, CONTAINER_FLAGS, containerOptions } from "./_container_flags.ts";
import { checkCreateFlags, createWithPull } from "./_create_prelude.ts";
import { containerService } from "./_service.ts";

/** `create [OPTIONS] IMAGE [COMMAND] [ARG...]` */
export const create: Command = {
  usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  summary: "Create a new container",
  args: { min: 1 },
  stopAtPositional: true,
  flags: CONTAINER_FLAGS,
  async run(ctx, flags, args) {
    const options = containerOptions(flags, args);
    checkCreateFlags(flags);
    attachStreams(flags);
    const service = containerService(ctx);
    const record = await createWithPull(ctx, flags, options, (o) => service.create(o));
    ctx.print(`${record.Id}\n`);
    return 0;
  },
};
