/**
 * Docker's way with several names (`stop a b c`): act on each, print each
 * name that worked, report each failure on its own line, and exit non-zero
 * when any failed. With one name, its error is the command's error. Errors
 * that `ignore` accepts (`rm -f` of a missing container) are passed over in
 * silence: nothing printed, the status unchanged.
 *
 * @module
 */
import { describeError, exitCodeOf } from "../errors.ts";
import type { Context } from "./_command.ts";

/** Runs `action` for every name; returns the exit status. */
export async function forEachName(
  ctx: Context,
  names: readonly string[],
  action: (name: string) => Promise<unknown>,
  ignore: (error: unknown) => boolean = () => false,
): Promise<number> {
  let status = 0;
  for (const name of names) {
    try {
      await action(name);
      ctx.print(`${name}\n`);
    } catch (error) {
      if (ignore(error)) continue;
      if (names.length === 1) throw error;
      ctx.printErr(`Error: ${describeError(error)}\n`);
      status = exitCodeOf(error);
    }
  }
  return status;
}
