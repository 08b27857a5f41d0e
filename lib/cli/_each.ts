/**
 * Docker's way with several names (`stop a b c`): act on each, print each
 * name that worked, report each failure on its own line, and exit non-zero
 * when any failed. With one name, its error is the command's error. Errors
 * that `ignore` accepts (`rm -f` of a missing container) leave the status
 * unchanged, and are passed over as docker passes each: in silence (`true`),
 * reported on stderr (`"reported"`), or with the name printed as if it had
 * worked (`"listed"`).
 *
 * @module
 */
import { describeError } from "../errors.ts";
import { type Context, exitCodeFor } from "./_command.ts";

/** Runs `action` for every name; returns the exit status. */
export async function forEachName(
  ctx: Context,
  names: readonly string[],
  action: (name: string) => Promise<unknown>,
  ignore: (error: unknown) => boolean | "reported" | "listed" = () => false,
): Promise<number> {
  let status = 0;
  for (const name of names) {
    try {
      await action(name);
      ctx.print(`${name}\n`);
    } catch (error) {
      const ignored = ignore(error);
      if (ignored === "listed") ctx.print(`${name}\n`);
      if (ignored === "reported") ctx.printErr(`Error: ${describeError(error)}\n`);
      if (ignored !== false) continue;
      if (names.length === 1) throw error;
      ctx.printErr(`Error: ${describeError(error)}\n`);
      status = exitCodeFor(ctx.command, error);
    }
  }
  return status;
}
