/**
 * Starts the init of a foreground `run`'s container before run's modules
 * load (see `lib/runtime/early_init.ts`): the init's Deno boots while this
 * one loads the engine and writes the bundle. Loaded by `lib/cli/mod.ts`
 * for `run` only.
 *
 * @module
 */
import { parseArgs } from "./_args.ts";
import { bool, type Context } from "./_command.ts";
import { RUN_FLAGS } from "./_run_flags.ts";
// The one runtime module needed (its imports are ffi/ only), not runtime/mod.ts: the init
// starts ~3 ms sooner.
import { EarlyInit } from "../runtime/early_init.ts";

/** The context `main` gives `run` when it started an init early. */
export interface RunContext extends Context {
  /** For run's container; `main` kills and reaps it unless the run adopted it. */
  earlyInit?: EarlyInit;
}

/**
 * An init for the container of `run ARGS`, when this process will be its
 * monitor (not `-d`, not `-i`) and can make namespaces; else undefined, and
 * the run goes on as usual (reporting any bad flag itself).
 */
export function startEarlyInit(self: string[], args: string[]): EarlyInit | undefined {
  let flags;
  try {
    const parsed = parseArgs(RUN_FLAGS, args, { stopAtPositional: true });
    if (parsed.args.length === 0) return undefined;
    flags = parsed.flags;
  } catch {
    return undefined;
  }
  if (bool(flags, "detach") || bool(flags, "interactive")) return undefined;
  // What the supervisor asks createContainer for; it checks, and spawns another init if not.
  const stdio = bool(flags, "tty")
    ? { stdin: "null", stdout: "null", stderr: "null" } as const
    : { stdin: "null", stdout: "piped", stderr: "piped" } as const;
  // A container ID as the engine makes them; the run creates its container with it.
  const id = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  try {
    return EarlyInit.start(id, { self, stdio, pdeathsig: true });
  } catch {
    // No namespaces or cgroups for this process (not root): the create fails the same way and says so.
    return undefined;
  }
}
