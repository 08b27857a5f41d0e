/**
 * runtime-spec hooks run by the launcher, each with the container's state
 * JSON on stdin: `prestart`/`createRuntime` once init is in its namespaces
 * (before the root is built), `poststart` after start, `poststop` at delete.
 *
 * @see https://github.com/opencontainers/runtime-spec/blob/main/config.md#posix-platform-hooks
 * @module
 */
import { EngineError } from "../errors.ts";
import type { Hook } from "./spec.ts";
import type { State } from "./state.ts";

const encoder = new TextEncoder();

async function runHook(hook: Hook, state: State): Promise<void> {
  const env: Record<string, string> = {};
  for (const kv of hook.env ?? []) {
    const at = kv.indexOf("=");
    if (at > 0) env[kv.slice(0, at)] = kv.slice(at + 1);
  }
  // Deno.Command cannot set argv[0]; args[0] names the hook, as in runc's logs.
  const child = new Deno.Command(hook.path, {
    args: (hook.args ?? []).slice(1),
    env,
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = hook.timeout === undefined
    ? undefined
    : setTimeout(() => child.kill("SIGKILL"), hook.timeout * 1000);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode(JSON.stringify(state))).catch(() => {});
    await writer.close().catch(() => {});
    const out = await child.output();
    if (!out.success) {
      const why = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
      const status = out.signal === null ? `exit status ${out.code}` : `signal ${out.signal}`;
      throw new EngineError(`Hook "${hook.path}" failed: ${status}${why ? `: ${why}` : ""}`);
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * Runs hooks in order; the first failure stops them.
 * @throws {EngineError} naming the hook that failed
 */
export async function runHooks(hooks: readonly Hook[] | undefined, state: State): Promise<void> {
  for (const hook of hooks ?? []) await runHook(hook, state);
}

/**
 * Runs hooks whose failure must not stop the lifecycle (poststart, poststop):
 * the spec has the runtime log a warning and go on as if the hook had
 * succeeded, so each failure goes to `onWarning` and the next hook runs.
 */
export async function runHooksQuietly(
  hooks: readonly Hook[] | undefined,
  state: State,
  options: { stage: string; onWarning?: ((message: string) => void) | undefined },
): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) {
    await runHook(hook, state).catch((error: Error) => {
      options.onWarning?.(`${options.stage} hook ${i}: ${error.message}`);
    });
  }
}
