/**
 * `berth export CONTAINER [-o FILE]`: a tar of the container's file system,
 * to stdout or a file (written beside it and renamed, so a failed export
 * leaves no half archive).
 *
 * @module
 */
import { EngineError, UsageError } from "../errors.ts";
import { tempPath } from "../store/tmp.ts";
import { type Command, str } from "./_command.ts";
import { containerService } from "./_service.ts";

/** `export [OPTIONS] CONTAINER` */
export const exportCmd: Command = {
  usage: "[OPTIONS] CONTAINER",
  summary: "Export a container's filesystem as a tar archive",
  args: { min: 1, max: 1 },
  flags: [{
    name: "output",
    short: "o",
    type: "string",
    value: "string",
    description: "Write to a file, instead of STDOUT",
  }],
  async run(ctx, flags, args) {
    const output = str(flags, "output");
    if (output === undefined && ctx.stdoutIsTerminal) {
      throw new UsageError("cowardly refusing to save to a terminal. Use the -o flag or redirect", {
        exitCode: 1,
      });
    }
    const service = containerService(ctx);
    if (output === undefined) {
      await service.export(
        args[0]!,
        (tar) => tar.pipeTo(Deno.stdout.writable, { preventClose: true }),
      );
      return 0;
    }
    const dir = output.includes("/") ? output.slice(0, output.lastIndexOf("/")) || "/" : ".";
    const tmp = tempPath(dir, ".berth-export");
    let made = false;
    try {
      await service.export(args[0]!, async (tar) => {
        const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
        made = true;
        await tar.pipeTo(file.writable);
      });
      await Deno.rename(tmp, output);
    } catch (error) {
      if (made) await Deno.remove(tmp).catch(() => {});
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
        throw new EngineError(
          `failed to export container: open ${output}: ${
            error instanceof Deno.errors.NotFound
              ? "no such file or directory"
              : "permission denied"
          }`,
          { exitCode: 1 },
        );
      }
      throw error;
    }
    return 0;
  },
};
