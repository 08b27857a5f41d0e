/**
 * `berth cp`: copy files between a container and the host, or stream a tar.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { bool, type Command } from "./_command.ts";
import { containerService } from "./_service.ts";

/**
 * Splits `CONTAINER:PATH` as Docker does: an absolute path, a path without a
 * colon, or one whose part before the colon starts with `.` is local.
 */
function splitArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith("/")) return { path: arg };
  const colon = arg.indexOf(":");
  if (colon < 0 || arg.startsWith(".")) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** `cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-` and `cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH` */
export const cp: Command = {
  usage:
    "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
  summary: "Copy files/folders between a container and the local filesystem",
  args: { min: 2, max: 2 },
  flags: [
    {
      name: "archive",
      short: "a",
      type: "bool",
      description: "Archive mode (copy all uid/gid information)",
    },
    {
      name: "follow-link",
      short: "L",
      type: "bool",
      description: "Always follow symbol link in SRC_PATH",
    },
    {
      name: "quiet",
      short: "q",
      type: "bool",
      description: "Suppress progress output during copy (berth prints none)",
    },
  ],
  async run(ctx, flags, args) {
    const src = splitArg(args[0]!);
    const dest = splitArg(args[1]!);
    const options = { archive: bool(flags, "archive"), followLink: bool(flags, "follow-link") };
    if (src.container !== undefined && dest.container !== undefined) {
      throw new UsageError("copying between containers is not supported");
    }
    if (src.container === undefined && dest.container === undefined) {
      throw new UsageError("must specify at least one container source");
    }
    const service = containerService(ctx);
    if (src.container !== undefined) {
      if (src.path === "") throw new UsageError("filepath must not be empty");
      const out = dest.path === "-"
        ? (tar: ReadableStream<Uint8Array>) =>
          tar.pipeTo(Deno.stdout.writable, { preventClose: true })
        : dest.path;
      await service.copyFrom(src.container, src.path, out, options);
      return 0;
    }
    if (dest.path === "") throw new UsageError("filepath must not be empty");
    const input = src.path === "-" ? Deno.stdin.readable : src.path;
    await service.copyTo(dest.container!, input, dest.path, options);
    return 0;
  },
};
