/**
 * `berth wait`: blocks until containers stop, then prints their exit codes.
 *
 * As docker's, it waits for the run under way to end: a container that its
 * restart policy starts again has still exited once, and `wait` returns then.
 *
 * @module
 */
import { describeError, NotFoundError } from "../errors.ts";
import type { ContainerRecord } from "../engine/container_record.ts";
import type { ContainerService } from "../engine/containers.ts";
import { type Command, exitCodeFor } from "./_command.ts";
import { containerService } from "./_service.ts";

/** `wait CONTAINER [CONTAINER...]` */
export const wait: Command = {
  usage: "CONTAINER [CONTAINER...]",
  summary: "Block until one or more containers stop, then print their exit codes",
  args: { min: 1 },
  flags: [],
  async run(ctx, _flags, args) {
    const service = containerService(ctx);
    let status = 0;
    for (const name of args) {
      try {
        const record = await firstExit(service, name);
        ctx.print(`${record.State.ExitCode}\n`);
      } catch (error) {
        // As docker: each failure on its own line, the others still waited for.
        if (args.length === 1) throw error;
        ctx.printErr(`Error: ${describeError(error)}\n`);
        status = exitCodeFor(ctx.command, error);
      }
    }
    return status;
  },
};

/**
 * The record once the run under way has ended: no longer running, or
 * restarting (by its policy), or started again since (a restart that came
 * between two looks). A container that is not running returns at once.
 */
async function firstExit(service: ContainerService, name: string): Promise<ContainerRecord> {
  let record = await service.get(name);
  const run = record.State.StartedAt;
  // The monitor records the exit: look soon at first (a signalled container ends within
  // milliseconds), then every 50 ms.
  for (
    let delay = 2;
    record.State.Running && record.State.StartedAt === run;
    delay = Math.min(delay * 2, 50)
  ) {
    await new Promise((r) => setTimeout(r, delay));
    try {
      record = await service.get(record.Id);
    } catch (error) {
      // removed by --rm meanwhile: it has exited
      if (error instanceof NotFoundError) return record;
      throw error;
    }
  }
  return record;
}
