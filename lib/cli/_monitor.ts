/**
 * `berth container __monitor ID` (hidden): the process that supervises one
 * detached container for its whole life. It lives as long as the container,
 * one per container, so it loads only the container service: not the engine's
 * image code (engine/mod.ts) nor the CLI's formatting, which would cost each
 * monitor ~1.5 MB of heap and ~3 MB RSS.
 *
 * @module
 */
import { dup2, O_RDWR, openFd } from "../../ffi/fd.ts";
// The container service alone, not engine/mod.ts: see above.
import { ContainerService } from "../engine/containers.ts";
import { openStore } from "../store/mod.ts";
import { bool, type Command } from "./_command.ts";

/** `container __monitor ID` (hidden): supervises a detached container. */
export const monitor: Command = {
  usage: "ID",
  summary: "Supervise a detached container (internal)",
  args: { min: 1, max: 1 },
  flags: [{
    name: "attach-first",
    type: "bool",
    description: "Open the attach socket and wait for a client before starting",
  }],
  run(ctx, flags, args) {
    const service = new ContainerService(openStore(ctx.root), {
      self: ctx.self,
      runRoot: ctx.runRoot,
    });
    return service.monitor(args[0]!, (line, final) => {
      ctx.print(`${line}\n`);
      // The waiting `run -d` reads its last line and goes; later writes must not hit a closed pipe.
      if (final) dup2(openFd("/dev/null", O_RDWR), 1);
    }, { attachFirst: bool(flags, "attach-first") });
  },
};
