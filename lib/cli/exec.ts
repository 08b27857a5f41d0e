/**
 * `berth exec`: runs a command in a running container, joining its
 * namespaces, cgroup and root. Loads the engine's exec path only (see
 * lib/engine/container_exec.ts), and the terminal code for `-i`/`-t`.
 *
 * @module
 */
import { bool, type Command, list, str, writeAllSync } from "./_command.ts";
import { CONTAINER_FLAGS } from "./_container_flags.ts";

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
      ["interactive", "tty", "user", "workdir", "env"].includes(f.name)
    ),
  ],
  async run(ctx, flags, args) {
    const [name, ...command] = args as [string, ...string[]];
    const tty = bool(flags, "tty");
    const interactive = bool(flags, "interactive");
    const user = str(flags, "user");
    const workdir = str(flags, "workdir");
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
      const result = await execByName(ctx, name, {
        args: command,
        env: list(flags, "env"),
        tty,
        interactive,
        detach: bool(flags, "detach"),
        ...(user !== undefined ? { user } : {}),
        ...(workdir !== undefined ? { workdir } : {}),
      }, {
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
