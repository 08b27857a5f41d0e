/**
 * `berth load`: images from a docker-archive or OCI archive, file or stdin.
 *
 * @module
 */
import { EngineError, exitCodeOf, UsageError } from "../errors.ts";
import { Engine } from "../engine/mod.ts";
import { familiarString } from "../image/mod.ts";
import { bool, type Command, str } from "./_command.ts";
import { progressFor } from "./_progress.ts";
import { openSource } from "./_source.ts";

/** `load [OPTIONS]` */
export const load: Command = {
  usage: "[OPTIONS]",
  summary: "Load an image from a tar archive or STDIN",
  args: { max: 0 },
  flags: [
    {
      name: "input",
      short: "i",
      type: "string",
      value: "string",
      description: "Read from tar archive file, instead of STDIN",
    },
    { name: "quiet", short: "q", type: "bool", description: "Suppress the load output" },
  ],
  async run(ctx, flags) {
    const input = str(flags, "input") ?? "-";
    if (input === "-" && ctx.stdinIsTerminal) {
      throw new UsageError("Requested load from stdin, but stdin is empty");
    }
    const source = await openSource(input);
    const engine = Engine.open(ctx.root);
    const progress = bool(flags, "quiet") ? undefined : progressFor(ctx);
    try {
      const loaded = await engine.loadImages(source.stream, {
        onProgress: (bytes) => progress?.update("Loading", bytes, source.size),
      });
      progress?.done();
      if (bool(flags, "quiet")) return 0;
      for (const image of loaded) {
        if (image.names.length === 0) ctx.print(`Loaded image ID: ${image.id}\n`);
        for (const name of image.names) ctx.print(`Loaded image: ${familiarString(name)}\n`);
      }
      return 0;
    } catch (error) {
      throw new EngineError(`Cannot load "${source.name}"`, {
        cause: error,
        exitCode: exitCodeOf(error),
      });
    } finally {
      progress?.done();
    }
  },
};
