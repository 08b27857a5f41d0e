/**
 * `berth save`: images to a tar archive (docker-archive by default, or OCI).
 *
 * @module
 */
import { EngineError, exitCodeOf, UsageError } from "../errors.ts";
import { Engine, type SaveFormat } from "../engine/mod.ts";
import { type Command, str } from "./_command.ts";
import { progressFor } from "./_progress.ts";
import { tempPath } from "../store/mod.ts";

/** `save [OPTIONS] IMAGE [IMAGE...]` */
export const save: Command = {
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  summary: "Save one or more images to a tar archive (streamed to STDOUT by default)",
  args: { min: 1 },
  flags: [
    {
      name: "output",
      short: "o",
      type: "string",
      value: "string",
      description: "Write to a file, instead of STDOUT",
    },
    {
      name: "format",
      type: "string",
      value: "string",
      default: "docker",
      description: "Archive format: docker (docker-archive) or oci",
    },
  ],
  async run(ctx, flags, args) {
    const format = str(flags, "format") ?? "docker";
    if (format !== "docker" && format !== "oci") {
      throw new UsageError(`Invalid --format "${format}": expected docker or oci`);
    }
    const output = str(flags, "output");
    if (output === undefined && ctx.stdoutIsTerminal) {
      throw new UsageError("Cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    const engine = Engine.open(ctx.root);
    const stream = await engine.saveImages(args, format as SaveFormat);
    if (output === undefined) {
      await stream.pipeTo(Deno.stdout.writable, { preventClose: true });
      return 0;
    }
    // Written beside the target and renamed, so a failed save leaves no half archive.
    const dir = output.includes("/") ? output.slice(0, output.lastIndexOf("/")) || "/" : ".";
    const tmp = tempPath(dir, ".berth-save");
    const progress = progressFor(ctx);
    let written = 0;
    try {
      const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
      await stream.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            written += chunk.byteLength;
            progress.update("Saving", written);
            controller.enqueue(chunk);
          },
        }),
      ).pipeTo(file.writable);
      await Deno.rename(tmp, output);
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      if (error instanceof Deno.errors.NotFound) {
        throw new EngineError(`Cannot write "${output}": no such directory`, { cause: error });
      }
      throw new EngineError(`Cannot save to "${output}"`, {
        cause: error,
        exitCode: exitCodeOf(error),
      });
    } finally {
      progress.done();
    }
    return 0;
  },
};
