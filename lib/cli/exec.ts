/**
 * `berth exec`: runs a command in a running container, joining its
 * namespaces, cgroup and root.
 *
 * @module
 */
import { kill } from "../../ffi/proc.ts";
import { attachToTerminal } from "./_attach.ts";
import { bool, type Command, list, str } from "./_command.ts";
import { containerService } from "./run.ts";

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
    {
      name: "interactive",
      short: "i",
      type: "bool",
      description: "Keep STDIN open even if not attached",
    },
    { name: "tty", short: "t", type: "bool", description: "Allocate a pseudo-TTY" },
    {
      name: "user",
      short: "u",
      type: "string",
      value: "string",
      description: "Username or UID (format: <name|uid>[:<group|gid>])",
    },
    {
      name: "workdir",
      short: "w",
      type: "string",
      value: "string",
      description: "Working directory inside the container",
    },
    {
      name: "env",
      short: "e",
      type: "list",
      value: "list",
      description: "Set environment variables",
    },
  ],
  async run(ctx, flags, args) {
    const [name, ...command] = args as [string, ...string[]];
    const tty = bool(flags, "tty");
    const interactive = bool(flags, "interactive");
    const user = str(flags, "user");
    const workdir = str(flags, "workdir");
    const { io, release } = attachToTerminal({ tty, interactive }, kill);
    try {
      const result = await containerService(ctx).exec(name, {
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
