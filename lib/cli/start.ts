/**
 * `berth start`: starts created or stopped containers under a monitor;
 * with `-a` attached to this terminal instead.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { kill } from "../../ffi/proc.ts";
import { attachToTerminal } from "./_attach.ts";
import { bool, type Command } from "./_command.ts";
import { forEachName } from "./_each.ts";
import { containerService } from "./run.ts";

/** `start [OPTIONS] CONTAINER [CONTAINER...]` */
export const start: Command = {
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Start one or more stopped containers",
  args: { min: 1 },
  flags: [
    {
      name: "attach",
      short: "a",
      type: "bool",
      description: "Attach STDOUT/STDERR and forward signals",
    },
    { name: "interactive", short: "i", type: "bool", description: "Attach container's STDIN" },
  ],
  async run(ctx, flags, args) {
    const service = containerService(ctx);
    if (bool(flags, "attach") || bool(flags, "interactive")) {
      if (args.length > 1) {
        throw new UsageError("you cannot start and attach multiple containers at once");
      }
      const record = await service.get(args[0]!);
      if (record.State.Running) return 0;
      const { io, release } = attachToTerminal({
        tty: record.Config.Tty,
        interactive: bool(flags, "interactive"),
      }, kill);
      try {
        return (await service.runAttached(record.Id, io)).exitCode;
      } finally {
        release();
      }
    }
    return await forEachName(ctx, args, (name) => service.startDetached(name));
  },
};
