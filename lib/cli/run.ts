/**
 * `berth run`: create a container from an image and run it, attached to the
 * terminal (this process is its monitor) or detached with `-d`.
 *
 * @module
 */
import { attachSession, attachToTerminal, sessionStatus, signalPid, ttySize } from "./_attach.ts";
import { bool, type Command } from "./_command.ts";
import { attachStreams, containerOptions } from "./_container_flags.ts";
import { checkCreateFlags, createWithPull } from "./_create_prelude.ts";
import { detachKeysOf } from "./_detach_keys.ts";
import type { RunContext } from "./_early_run.ts";
import { RUN_FLAGS } from "./_run_flags.ts";
import { containerService } from "./_service.ts";

/** `run [OPTIONS] IMAGE [COMMAND] [ARG...]` */
export const run: Command = {
  usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  summary: "Create and run a new container from an image",
  args: { min: 1 },
  stopAtPositional: true,
  flags: RUN_FLAGS,
  async run(ctx, flags, args) {
    const init = (ctx as RunContext).earlyInit;
    const options = {
      ...containerOptions(flags, args),
      detach: bool(flags, "detach"),
      // The pty has the terminal's size before the process starts (`stty size` is right at once).
      ...(bool(flags, "detach") ? {} : ttySize(bool(flags, "tty"))),
      ...(init === undefined ? {} : { id: init.id }),
    };
    const detachKeys = detachKeysOf(flags);
    checkCreateFlags(flags);
    const streams = attachStreams(flags);
    const service = containerService(ctx);
    const record = await createWithPull(ctx, flags, options, (o) => service.create(o));
    if (bool(flags, "detach")) {
      try {
        await service.startDetached(record.Id);
      } catch (error) {
        if (options.autoRemove) await service.remove(record.Id, true, true).catch(() => {});
        throw error;
      }
      ctx.print(`${record.Id}\n`);
      return 0;
    }
    if (options.interactive) {
      // Input is attached: the container runs under its own monitor, so the
      // user can detach (Ctrl-P Ctrl-Q) and leave it running.
      let session;
      try {
        session = await service.startAndAttach(record.Id, ttySize(options.tty ?? false));
      } catch (error) {
        if (options.autoRemove) await service.remove(record.Id, true, true).catch(() => {});
        throw error;
      }
      const end = await attachSession(session.client, {
        tty: options.tty ?? false,
        stdin: true,
        detachKeys,
        ...(bool(flags, "sig-proxy") ? { signal: signalPid(session.record.State.Pid) } : {}),
      });
      return sessionStatus(end, 0);
    }
    const { io, release } = attachToTerminal({
      tty: options.tty ?? false,
      interactive: options.interactive ?? false,
    });
    if (streams.length > 0 && !options.tty) {
      // -a: only the streams named reach the terminal (the log has all).
      const output = io.output;
      io.output = (stream, bytes) => {
        if (streams.includes(stream === "stdout" ? "STDOUT" : "STDERR")) output?.(stream, bytes);
      };
    }
    try {
      const early = init === undefined ? {} : { init };
      const result = await service.runAttached(record.Id, { ...io, ...early });
      return result.exitCode;
    } finally {
      release();
      if (options.autoRemove) await service.remove(record.Id, true, true).catch(() => {});
    }
  },
};
