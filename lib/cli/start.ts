/**
 * `berth start`: starts created or stopped containers under a monitor;
 * with `-a`/`-i` this terminal is attached to it and can detach again.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { attachSession, sessionStatus, signalPid, ttySize } from "./_attach.ts";
import { bool, type Command } from "./_command.ts";
import { detachKeysOf } from "./_detach_keys.ts";
import { forEachName } from "./_each.ts";
import { DETACH_KEYS_FLAG } from "./_run_flags.ts";
import { containerService } from "./_service.ts";

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
    DETACH_KEYS_FLAG,
  ],
  async run(ctx, flags, args) {
    const service = containerService(ctx);
    if (bool(flags, "attach") || bool(flags, "interactive")) {
      if (args.length > 1) {
        throw new UsageError("you cannot start and attach multiple containers at once");
      }
      const detachKeys = detachKeysOf(flags);
      const record = await service.get(args[0]!);
      if (record.State.Running) return 0;
      const session = await service.startAndAttach(record.Id, ttySize(record.Config.Tty));
      const end = await attachSession(session.client, {
        tty: record.Config.Tty,
        stdin: bool(flags, "interactive") && record.Config.OpenStdin,
        detachKeys,
        signal: signalPid(session.record.State.Pid),
      });
      return sessionStatus(end, 0);
    }
    return await forEachName(ctx, args, (name) => service.startDetached(name));
  },
};
