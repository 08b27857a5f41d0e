/**
 * What `run` and `create` do around the engine's create: `--pull` (also of
 * `--platform`'s image when the local one is for another), `--cidfile`, and
 * `-a` with `-d`, each with Docker's wording.
 *
 * @module
 */
import { EngineError, NotFoundError, UsageError } from "../errors.ts";
import type { ContainerOptions, ContainerRecord } from "../engine/mod.ts";
import { bool, type Context, str } from "./_command.ts";
import type { FlagValues } from "./_args.ts";
import { attachStreams, pullPolicy } from "./_container_flags.ts";

/** Checks the flags `create` would act on, before anything is made. */
export function checkCreateFlags(flags: FlagValues): void {
  pullPolicy(flags);
  if (bool(flags, "detach") && attachStreams(flags).length > 0) {
    throw new UsageError("Conflicting options: -a and -d");
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
      // Docker's CLI refuses it before asking the daemon, with a plain error (create exits 1).
      throw new EngineError(
        `container ID file found, make sure the other container isn't running or delete ${cidfile}`,
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
  await pull.run(toStderr, { quiet, ...(platform ? { platform } : {}) }, [tagged(image)]);
}

/** An image name with `:latest` when it has no tag or digest. */
function tagged(image: string): string {
  return /[:@][^/]*$/.test(image) ? image : `${image}:latest`;
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
    // An image here for another platform than --platform's counts as missing, as in Docker.
    const missing = error instanceof NotFoundError &&
      /^No such image|does not match the specified platform/.test(error.message);
    if (!missing || policy !== "missing") throw error;
    const name = /^No such image: /.test(error.message)
      ? error.message.replace(/^No such image: /, "")
      : tagged(options.imageName);
    ctx.printErr(`Unable to find image '${name}' locally\n`);
    await pullImage(ctx, flags, options.imageName);
    record = await create(options);
  }
  const cidfile = str(flags, "cidfile");
  if (cidfile !== undefined && cidfile !== "") Deno.writeTextFileSync(cidfile, record.Id);
  return record;
}
