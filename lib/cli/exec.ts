/**
 * `berth exec`: runs a command in a running container, joining its
 * namespaces, cgroup and root. Loads the engine's exec path only (see
 * lib/engine/container_exec.ts), and the terminal code for `-i`/`-t`.
 *
 * @module
 */
import { bool, type Command, list, str, writeAllSync } from "./_command.ts";
import { CONTAINER_FLAGS, parseEnvFile } from "./_container_flags.ts";
import { detachKeysOf } from "./_detach_keys.ts";
import { DETACH_KEYS_FLAG } from "./_run_flags.ts";

/** `exec [OPTIONS] CONTAINER COMMAND [ARG...]` */
export const exec: Command = {
  usage: "[OPTIONS] CONTAINER COMMAND [ARG...]",
  summary: "Execute a command in a running container",
  args: { min: 2 },
  stopAtPositional: true,
  flags: [
    {
      name: "detach",
      short: "d",
      type: "bool",
      description: "Detached mode: run command in the background",
    },
    ...CONTAINER_FLAGS.filter((f) =>
      ["interactive", "tty", "user", "workdir", "env", "env-file", "privileged"].includes(f.name)
    ),
    DETACH_KEYS_FLAG,
  ],
  async run(ctx, flags, args) {
    const [name, ...command] = args as [string, ...string[]];
    const tty = bool(flags, "tty");
    const interactive = bool(flags, "interactive");
    const user = str(flags, "user");
    const workdir = str(flags, "workdir");
    const detachKeys = detachKeysOf(flags); // Docker's error for a bad sequence, before anything runs
    const detach = bool(flags, "detach");
    const env = [...list(flags, "env-file").flatMap(parseEnvFile), ...list(flags, "env")];
    // Docker's exec -t: TERM=xterm unless the user gives one.
    if (tty && !env.some((e) => e.startsWith("TERM=") || e === "TERM")) env.push("TERM=xterm");
    const process = {
      args: command,
      env,
      tty,
      ...(bool(flags, "privileged") ? { privileged: true } : {}),
      interactive,
      detach,
      ...(user !== undefined ? { user } : {}),
      ...(workdir !== undefined ? { workdir } : {}),
    };
    if (tty && !detach) {
      // Under conmon, so that the detach keys leave the process running.
      const [{ execSessionByName }, { attachSession, sessionStatus, ttySize }] = await Promise.all([
        import("../engine/container_exec.ts"),
        import("./_attach.ts"),
      ]);
      const session = await execSessionByName(ctx, name, process, ttySize(true).consoleSize);
      try {
        const end = await attachSession(session.client, { tty, stdin: interactive, detachKeys });
        return sessionStatus(end, 0);
      } finally {
        session.dispose();
      }
    }
    const { execByName } = await import("../engine/container_exec.ts");
    // Plain output needs nothing of the terminal code.
    const { io, release } = tty || interactive
      ? (await import("./_attach.ts")).attachToTerminal({ tty, interactive })
      : {
        io: {
          output: (stream: "stdout" | "stderr", bytes: Uint8Array) =>
            writeAllSync(stream === "stdout" ? Deno.stdout : Deno.stderr, bytes),
        },
        release: () => {},
      };
    try {
      const result = await execByName(ctx, name, process, {
        ...(io.stdin ? { stdin: io.stdin } : {}),
        ...(io.output ? { output: io.output } : {}),
        ...(io.console ? { console: io.console } : {}),
      });
      return result.exitCode;
    } finally {
      release();
    }
  },
};
