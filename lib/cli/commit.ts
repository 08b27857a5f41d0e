/**
 * `berth commit CONTAINER [REPOSITORY[:TAG]]`: a container's changes become a
 * new image; prints its ID.
 *
 * @module
 */
import { commitContainer } from "../engine/container_commit.ts";
import { InvalidError } from "../errors.ts";
import { parseReference, type Reference } from "../image/mod.ts";
import { bool, type Command, list, str } from "./_command.ts";
import { containerService } from "./_service.ts";

/** `commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]` */
export const commit: Command = {
  usage: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
  summary: "Create a new image from a container's changes",
  args: { min: 1, max: 2 },
  flags: [
    {
      name: "author",
      short: "a",
      type: "string",
      value: "string",
      description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")',
    },
    {
      name: "change",
      short: "c",
      type: "list",
      value: "list",
      description: "Apply Dockerfile instruction to the created image",
    },
    { name: "message", short: "m", type: "string", value: "string", description: "Commit message" },
    {
      name: "pause",
      short: "p",
      type: "bool",
      default: true,
      description: "Pause container during commit",
    },
  ],
  async run(ctx, flags, args) {
    let reference: Reference | undefined;
    if (args[1] !== undefined) {
      reference = parseReference(args[1]);
      if (reference.digest !== undefined) {
        throw new InvalidError("refusing to create a tag with a digest reference");
      }
    }
    const image = await commitContainer(containerService(ctx), args[0]!, {
      author: str(flags, "author"),
      changes: list(flags, "change"),
      message: str(flags, "message"),
      pause: bool(flags, "pause"),
      reference,
    });
    ctx.print(`${image.id}\n`);
    return 0;
  },
};
