/**
 * `berth import FILE|URL|- [REPOSITORY[:TAG]]`: a rootfs tarball becomes a
 * one-layer image; prints its ID.
 *
 * @module
 */
import { EngineError, exitCodeOf, InvalidError } from "../errors.ts";
import { Engine } from "../engine/mod.ts";
import { parsePlatform, parseReference, type Reference } from "../image/mod.ts";
import { type Command, list, str } from "./_command.ts";
import { progressFor } from "./_progress.ts";
import { openSource } from "./_source.ts";

/** `import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]` */
export const importCmd: Command = {
  usage: "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
  summary: "Import the contents from a tarball to create a filesystem image",
  args: { min: 1, max: 2 },
  flags: [
    {
      name: "change",
      short: "c",
      type: "list",
      value: "list",
      description: "Apply Dockerfile instruction to the created image",
    },
    {
      name: "message",
      short: "m",
      type: "string",
      value: "string",
      description: "Set commit message for imported image",
    },
    {
      name: "platform",
      type: "string",
      value: "string",
      description: "Set platform if server is multi-platform capable",
    },
  ],
  async run(ctx, flags, args) {
    let reference: Reference | undefined;
    if (args[1] !== undefined) {
      reference = parseReference(args[1]);
      if (reference.digest !== undefined) {
        throw new InvalidError(
          `Invalid reference "${args[1]}": an import cannot be named by digest`,
        );
      }
    }
    const platformFlag = str(flags, "platform");
    const platform = platformFlag === undefined ? undefined : parsePlatform(platformFlag);
    const engine = Engine.open(ctx.root);
    const source = await openSource(args[0]!);
    const progress = progressFor(ctx);
    const message = str(flags, "message");
    try {
      const image = await engine.importImage(source.stream, {
        ...(reference ? { reference } : {}),
        changes: list(flags, "change"),
        ...(message !== undefined ? { message } : {}),
        ...(platform ? { platform } : {}),
        sourceName: source.name,
        onProgress: (bytes) => progress.update("Importing", bytes, source.size),
      });
      progress.done();
      ctx.print(`${image.id}\n`);
      return 0;
    } catch (error) {
      progress.done();
      throw new EngineError(`Cannot import "${source.name}"`, {
        cause: error,
        exitCode: exitCodeOf(error),
      });
    }
  },
};
