/**
 * `berth top`: the container's processes, as the host's `ps` shows them
 * (Docker runs `ps -ef` and keeps the container's rows).
 *
 * @module
 */
import { EngineError } from "../errors.ts";
import type { Command } from "./_command.ts";
import { formatTable } from "./_template.ts";
import { containerService } from "./_service.ts";

/** `top CONTAINER [ps OPTIONS]` */
export const top: Command = {
  usage: "CONTAINER [ps OPTIONS]",
  summary: "Display the running processes of a container",
  args: { min: 1 },
  stopAtPositional: true,
  flags: [],
  async run(ctx, _flags, args) {
    const [name, ...psArgs] = args as [string, ...string[]];
    const { stats } = await containerService(ctx).stats(name);
    const out = await new Deno.Command("ps", {
      args: psArgs.length > 0 ? psArgs : ["-ef"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.code !== 0) {
      throw new EngineError(`ps: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    const lines = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
    const header = lines[0]!.trim().split(/\s+/);
    const pidColumn = header.indexOf("PID");
    if (pidColumn < 0) throw new EngineError(`Couldn't find PID field in ps output`);
    const pids = new Set(stats.processes);
    const rows = lines.slice(1).map((line) => {
      const fields = line.trim().split(/\s+/);
      // The last column (the command) may hold spaces.
      return [...fields.slice(0, header.length - 1), fields.slice(header.length - 1).join(" ")];
    }).filter((fields) => pids.has(Number(fields[pidColumn])));
    ctx.print(formatTable([header, ...rows]));
    return 0;
  },
};
