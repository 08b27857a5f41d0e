/**
 * The entry point of `exec`'s init under `deno run`: exec_init.ts's modules
 * only (init_main.ts's build a container's root too), so a process joins a
 * container sooner. A compiled berth runs `berth runtime __init`, the same code.
 *
 * @module
 */
import { runExecInit } from "./exec_init.ts";
import { INIT_ENV, type InitConfig } from "./init_config.ts";

if (import.meta.main) {
  const env = Deno.env.get(INIT_ENV);
  const cfg: InitConfig | undefined = env === undefined ? undefined : JSON.parse(env);
  // runExecInit returns only when the process could not be exec'd.
  Deno.exitCode = cfg?.exec === undefined ? 125 : runExecInit(cfg, cfg.exec);
}
