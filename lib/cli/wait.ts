/**
 * `berth wait`: blocks until containers stop, then prints their exit codes.
 *
 * @module
 */
import type { Command } from "./_command.ts";
import { containerService } from "./_service.ts";

/** `wait CONTAINER [CONTAINER...]` */
export const wait: Command = {
  usage: "CONTAINER [CONTAINER...]",
  summary: "Block until one or more containers stop, then print their exit codes",
  args: { min: 1 },
  flags: [],
  async run(ctx, _flags, args) {
    const service = containerService(ctx);
    for (const name of args) {
      const record = await service.wait(name);
      ctx.print(`${record.State.ExitCode}\n`);
    }
    return 0;
  },
};
