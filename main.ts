/**
 * berth: a Docker-compatible container engine. This file only turns argv into
 * a command of lib/cli and its result into the process's exit status.
 *
 * @module
 */
import { main } from "./lib/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
