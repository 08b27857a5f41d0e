/**
 * `berth container __exited ID` (hidden): conmon runs it once a detached
 * container has ended. It records the exit and applies the restart policy,
 * then goes; nothing of berth stays resident per container. It loads only the
 * container service: not the engine's image code (engine/mod.ts) nor the CLI's
 * formatting.
 *
 * @module
 */
// The container service alone, not engine/mod.ts: see above.
import { ContainerService } from "../engine/containers.ts";
import { openStore, pathExists } from "../store/mod.ts";
import type { Command } from "./_command.ts";

/** `container __exited ID` (hidden): records a detached container's exit. */
export const exited: Command = {
  usage: "ID",
  summary: "Record a detached container's exit (run by conmon)",
  args: { min: 1, max: 1 },
  flags: [],
  async run(ctx, _flags, args) {
    // Removed meanwhile (`rm -f`, or its whole root): nothing to record, and opening the
    // store would lay out a root that is gone.
    if (!pathExists(`${ctx.root}/containers/${args[0]}`)) return 0;
    const service = new ContainerService(openStore(ctx.root, { reading: true }), {
      self: ctx.self,
      runRoot: ctx.runRoot,
    });
    await service.exited(args[0]!);
    return 0;
  },
};
