/**
 * `berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";
import { Engine } from "../engine/mod.ts";
import { parseReference } from "../image/mod.ts";
import type { Command } from "./_command.ts";

/** `tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]` */
export const tag: Command = {
  usage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
  summary: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
  args: { min: 2, max: 2 },
  flags: [],
  async run(ctx, _flags, args) {
    const target = parseReference(args[1]!);
    if (target.digest !== undefined) {
      throw new InvalidError(
        `Invalid reference "${args[1]}": refusing to create a tag with a digest reference`,
      );
    }
    await Engine.open(ctx.root).tagImage(args[0]!, target);
    return 0;
  },
};
