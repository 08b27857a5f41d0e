/**
 * `berth pause` and `berth unpause`: freeze and thaw a container's processes.
 *
 * @module
 */
import { describeError, exitCodeOf } from "../errors.ts";
import type { Command, Context } from "./_command.ts";
import { containerService } from "./run.ts";

async function each(
  ctx: Context,
  names: string[],
  action: (name: string) => Promise<unknown>,
): Promise<number> {
  let status = 0;
  for (const name of names) {
    try {
      await action(name);
      ctx.print(`${name}\n`);
    } catch (error) {
      if (names.length === 1) throw error;
      ctx.printErr(`Error: ${describeError(error)}\n`);
      status = exitCodeOf(error);
    }
  }
  return status;
}

/** `pause CONTAINER [CONTAINER...]` */
export const pause: Command = {
  usage: "CONTAINER [CONTAINER...]",
  summary: "Pause all processes within one or more containers",
  args: { min: 1 },
  flags: [],
  run(ctx, _flags, args) {
    const service = containerService(ctx);
    return each(ctx, args, (name) => service.pause(name));
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
    return each(ctx, args, (name) => service.unpause(name));
  },
};
