/**
 * The entry point of a container's init under `deno run`: a small module
 * graph (main.ts's spans every command), so each container starts ~10 ms
 * sooner. A compiled berth runs `berth runtime __init` instead, the same code.
 *
 * @module
 */
import { INIT_ENV, runInit } from "./init.ts";

if (import.meta.main) {
  const env = Deno.env.get(INIT_ENV);
  // runInit returns only when the container's process could not be exec'd.
  Deno.exitCode = env === undefined ? 125 : runInit(JSON.parse(env));
}
