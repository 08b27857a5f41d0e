/**
 * `berth attach`: joins this terminal to a running container's output (and
 * its input, unless `--no-stdin`) through its monitor; Ctrl-P Ctrl-Q (or
 * `--detach-keys`) on a tty leaves it running.
 *
 * @module
 */
import { attachSession } from "./_attach.ts";
import { bool, type Command, str } from "./_command.ts";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "./_detach_keys.ts";
import { sessionStatus, signalPid } from "./run.ts";
import { ATTACH_FLAGS } from "./_run_flags.ts";
import { containerService } from "./_service.ts";

/** `attach [OPTIONS] CONTAINER` */
export const attach: Command = {
  usage: "[OPTIONS] CONTAINER",
  summary: "Attach local standard input, output, and error streams to a running container",
  args: { min: 1, max: 1 },
  flags: [
    ...ATTACH_FLAGS,
    { name: "no-stdin", type: "bool", description: "Do not attach STDIN" },
  ],
  async run(ctx, flags, args) {
    const detachKeys = parseDetachKeys(str(flags, "detach-keys") ?? DEFAULT_DETACH_KEYS);
    const { record, client } = await containerService(ctx).attach(args[0]!);
    const end = await attachSession(client, {
      tty: record.Config.Tty,
      stdin: !bool(flags, "no-stdin") && record.Config.OpenStdin,
      detachKeys,
      ...(bool(flags, "sig-proxy") ? { signal: signalPid(record.State.Pid) } : {}),
    });
    // Docker's attach reports the detach as an error: its words, status 1.
    if (end.kind === "detached") ctx.printErr("read escape sequence\n");
    return sessionStatus(end, 1);
  },
};
