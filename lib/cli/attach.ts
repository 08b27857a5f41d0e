/**
 * `berth attach`: joins this terminal to a running container's output (and
 * its input, unless `--no-stdin`) through its monitor; Ctrl-P Ctrl-Q (or
 * `--detach-keys`) on a tty leaves it running.
 *
 * @module
 */
import { attachSession, sessionStatus, signalPid } from "./_attach.ts";
import { bool, type Command } from "./_command.ts";
import { detachKeysOf } from "./_detach_keys.ts";
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
    const detachKeys = detachKeysOf(flags);
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
