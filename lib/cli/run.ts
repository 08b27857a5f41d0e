/**
 * `berth run`: create a container from an image and run it, attached to the
 * terminal (this process is its monitor) or detached with `-d`.
 *
 * @module
 */
import { NotFoundError } from "../errors.ts";
import { ContainerService, Engine } from "../engine/mod.ts";
import { kill } from "../../ffi/proc.ts";
import { attachToTerminal } from "./_attach.ts";
import { bool, type Command } from "./_command.ts";
import { CONTAINER_FLAGS, containerOptions } from "./_container_flags.ts";

/** Opens the container service for a CLI context. */
export function containerService(
  ctx: { root: string; runRoot: string; self: string[] },
): ContainerService {
  return new ContainerService(Engine.open(ctx.root).store, {
    self: ctx.self,
    runRoot: ctx.runRoot,
  });
}

/** `run [OPTIONS] IMAGE [COMMAND] [ARG...]` */
export const run: Command = {
  usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  summary: "Create and run a new container from an image",
  args: { min: 1 },
  stopAtPositional: true,
  flags: [
    {
      name: "detach",
      short: "d",
      type: "bool",
      description: "Run container in background and print container ID",
    },
    ...CONTAINER_FLAGS,
  ],
  async run(ctx, flags, args) {
    const options = containerOptions(flags, args);
    const service = containerService(ctx);
    let record;
    try {
      record = await service.create(options);
    } catch (error) {
      if (error instanceof NotFoundError && /^No such image/.test(error.message)) {
        throw new NotFoundError(
          `Unable to find image "${error.message.replace(/^No such image: /, "")}" locally`,
        );
      }
      throw error;
    }
    if (bool(flags, "detach")) {
      try {
        await service.startDetached(record.Id);
      } catch (error) {
        if (options.autoRemove) await service.remove(record.Id, true).catch(() => {});
        throw error;
      }
      ctx.print(`${record.Id}\n`);
      return 0;
    }
    const { io, release } = attachToTerminal({
      tty: options.tty ?? false,
      interactive: options.interactive ?? false,
    }, kill);
    try {
      const result = await service.runAttached(record.Id, io);
      return result.exitCode;
    } finally {
      release();
      if (options.autoRemove) await service.remove(record.Id, true).catch(() => {});
    }
  },
};
