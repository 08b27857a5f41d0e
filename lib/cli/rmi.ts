/**
 * `berth rmi` / `berth image rm`: untag and delete images.
 *
 * @module
 */
import { describeError, EngineError } from "../errors.ts";
import { Engine } from "../engine/mod.ts";
import { bool, type Command } from "./_command.ts";

/** `rmi [OPTIONS] IMAGE [IMAGE...]` */
export const rmi: Command = {
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  summary: "Remove one or more images",
  args: { min: 1 },
  flags: [
    { name: "force", short: "f", type: "bool", description: "Force removal of the image" },
    { name: "no-prune", type: "bool", description: "Do not delete untagged parents" },
  ],
  async run(ctx, flags, args) {
    const engine = Engine.open(ctx.root);
    let status = 0;
    // Docker removes what it can and reports each failure, exiting non-zero.
    for (const name of args) {
      try {
        for (const event of await engine.removeImage(name, { force: bool(flags, "force") })) {
          ctx.print(`${event.action}: ${event.value}\n`);
        }
      } catch (error) {
        if (args.length === 1) throw error;
        ctx.printErr(`Error: ${describeError(error)}\n`);
        status = error instanceof EngineError ? error.exitCode : 125;
      }
    }
    return status;
  },
};
