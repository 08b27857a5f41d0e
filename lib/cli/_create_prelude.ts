/**
 * What `run` and `create` do around the engine's create: `--pull`,
 * `--platform` (the host's only: berth runs no emulator), `--cidfile`, and
 * `-a` with `-d`, each with Docker's wording.
 *
 * @module
 */
import { NotFoundError, UsageError } from "../errors.ts";
import type { ContainerOptions, ContainerRecord } from "../engine/mod.ts";
import { currentPlatform, parsePlatform } from "../image/mod.ts";
import { bool, type Context, str } from "./_command.ts";
import type { FlagValues } from "./_args.ts";
import { attachStreams, pullPolicy } from "./_container_flags.ts";

/** Checks the flags `create` would act on, before anything is made. */
export function checkCreateFlags(flags: FlagValues, image: string): void {
  pullPolicy(flags);
  if (bool(flags, "detach") && attachStreams(flags).length > 0) {
    throw new UsageError("Conflicting options: -a and -d");
  }
  const platform = str(flags, "platform");
  if (platform !== undefined && platform !== "") {
    const wanted = parsePlatform(platform);
    const host = currentPlatform();
    if (
      wanted.os !== host.os ||
      (wanted.architecture !== undefined && wanted.architecture !== host.architecture)
    ) {
      const show = (p: typeof host) => [p.os, p.architecture].filter(Boolean).join("/");
      throw new UsageError(
        `image with reference ${image} was found but does not match the specified platform: wanted ${
          show(wanted)
        }, actual: ${show(host)}`,
      );
    }
  }
  const cidfile = str(flags, "cidfile");
  if (cidfile !== undefined && cidfile !== "") {
    let exists = false;
    try {
      Deno.lstatSync(cidfile);
      exists = true;
    } catch {
      // free
    }
    if (exists) {
      throw new UsageError(
        `Container ID file found, make sure the other container isn't running or delete ${cidfile}`,
      );
    }
  }
}

/** Pulls `image` as `run` does: progress on stderr (none with `-q`). */
async function pullImage(ctx: Context, flags: FlagValues, image: string): Promise<void> {
  const { pull } = await import("./pull.ts");
  const quiet = bool(flags, "quiet");
  const toStderr: Context = { ...ctx, print: (text) => quiet ? undefined : ctx.printErr(text) };
  const platform = str(flags, "platform");
  // Tagged, so pull says no "Using default tag" line, which docker's run does not print.
  const tagged = /[:@][^/]*$/.test(image) ? image : `${image}:latest`;
  await pull.run(toStderr, { quiet, ...(platform ? { platform } : {}) }, [tagged]);
}

/**
 * Creates the container by `create`, pulling the image first as `--pull`
 * says (missing: only when it is not here, saying so as Docker), and
 * writes `--cidfile`.
 */
export async function createWithPull(
  ctx: Context,
  flags: FlagValues,
  options: ContainerOptions,
  create: (options: ContainerOptions) => Promise<ContainerRecord>,
): Promise<ContainerRecord> {
  const policy = pullPolicy(flags);
  if (policy === "always") await pullImage(ctx, flags, options.imageName);
  let record: ContainerRecord;
  try {
    record = await create(options);
  } catch (error) {
    const missing = error instanceof NotFoundError && /^No such image/.test(error.message);
    if (!missing || policy !== "missing") throw error;
    const name = error.message.replace(/^No such image: /, "");
    ctx.printErr(`Unable to find image '${name}' locally\n`);
    await pullImage(ctx, flags, options.imageName);
    record = await create(options);
  }
  const cidfile = str(flags, "cidfile");
  if (cidfile !== undefined && cidfile !== "") Deno.writeTextFileSync(cidfile, record.Id);
  return record;
}
