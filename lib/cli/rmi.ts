/**
 * `berth rmi` / `berth image rm`: untag and delete images.
 *
 * @module
 */
import { describeError, NotFoundError } from "../errors.ts";
import { Engine } from "../engine/mod.ts";
import { bool, type Command, exitCodeFor } from "./_command.ts";

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
    const force = bool(flags, "force");
    let status = 0;
    // Docker removes what it can and reports each failure, exiting non-zero;
    // with -f a missing image is reported but is no failure.
    for (const name of args) {
      try {
        for (const event of await engine.removeImage(name, { force })) {
          ctx.print(`${event.action}: ${event.value}\n`);
        }
      } catch (error) {
        const missing = force && error instanceof NotFoundError;
        if (args.length === 1 && !missing) throw error;
        ctx.printErr(`Error: ${describeError(error)}\n`);
        if (!missing) status = exitCodeFor(ctx.command, error);
      }
    }
    return status;
  },
};
