/**
 * `berth stop` and `berth restart`: the stop signal, then SIGKILL after `-t`.
 *
 * @module
 */
import { NotFoundError } from "../errors.ts";
import { type Command, int, str } from "./_command.ts";
import { forEachName } from "./_each.ts";
import { containerService } from "./_service.ts";

const FLAGS: Command["flags"] = [
  {
    name: "time",
    short: "t",
    type: "int",
    value: "int",
    description: "Seconds to wait before killing the container",
    aliases: ["timeout"], // docker's current name; --time is its deprecated one
  },
  {
    name: "signal",
    short: "s",
    type: "string",
    value: "string",
    description: "Signal to send to the container",
  },
];

/** `stop [OPTIONS] CONTAINER [CONTAINER...]` */
export const stop: Command = {
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Stop one or more running containers",
  args: { min: 1 },
  flags: FLAGS,
  run(ctx, flags, args) {
    const service = containerService(ctx);
    return forEachName(ctx, args, async (name) => {
      await service.stop(name, int(flags, "time"), str(flags, "signal"));
    });
  },
};

/** `restart [OPTIONS] CONTAINER [CONTAINER...]` */
export const restart: Command = {
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Restart one or more containers",
  args: { min: 1 },
  flags: FLAGS,
  run(ctx, flags, args) {
    const service = containerService(ctx);
    return forEachName(ctx, args, async (name) => {
      await service.stop(name, int(flags, "time"), str(flags, "signal"));
      await service.startDetached(name);
    });
  },
};

/** `kill [OPTIONS] CONTAINER [CONTAINER...]` */
export const killCmd: Command = {
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Kill one or more running containers",
  args: { min: 1 },
  flags: [{
    name: "signal",
    short: "s",
    type: "string",
    value: "string",
    description: "Signal to send to the container",
    default: "KILL",
  }],
  run(ctx, flags, args) {
    const service = containerService(ctx);
    return forEachName(ctx, args, async (name) => {
      await service.kill(name, str(flags, "signal") ?? "KILL");
    });
  },
};

/** `rm [OPTIONS] CONTAINER [CONTAINER...]` */
export const rm: Command = {
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Remove one or more containers",
  args: { min: 1 },
  flags: [
    {
      name: "force",
      short: "f",
      type: "bool",
      description: "Force the removal of a running container (uses SIGKILL)",
    },
    {
      name: "volumes",
      short: "v",
      type: "bool",
      description: "Remove anonymous volumes associated with the container",
    },
  ],
  run(ctx, flags, args) {
    const service = containerService(ctx);
    const force = flags.force === true;
    // Docker's `rm -f` passes over a container that does not exist: it says so, and exits 0.
    return forEachName(
      ctx,
      args,
      (name) => service.remove(name, force, flags.volumes === true),
      (error) => force && error instanceof NotFoundError && "reported",
    );
  },
};
