/**
 * Docker's `Are you sure you want to continue? [y/N]` prompt. Without a
 * terminal or on end of input the answer is no.
 *
 * @module
 */
import type { Context } from "./_command.ts";

/** Prints `warning` and the question; true only for an answer starting with y. */
export async function confirm(ctx: Context, warning: string): Promise<boolean> {
  ctx.print(`${warning}\nAre you sure you want to continue? [y/N] `);
  const buf = new Uint8Array(64);
  let n: number | null = null;
  try {
    n = await Deno.stdin.read(buf);
  } catch {
    n = null;
  }
  const answer = n === null
    ? ""
    : new TextDecoder().decode(buf.subarray(0, n)).trim().toLowerCase();
  if (n === null) ctx.print("\n");
  return answer === "y" || answer === "yes";
}
