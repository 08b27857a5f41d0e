/**
 * `berth stats`: CPU, memory, block I/O and pids of running containers from
 * their cgroups, network I/O from their interfaces; `--no-stream` prints one
 * sample.
 *
 * @module
 */
import type { ContainerRecord } from "../engine/mod.ts";
import { bool, type Command, str } from "./_command.ts";
import { printRows } from "./_format.ts";
import { bytesSize, humanSize } from "./_units.ts";
import { containerService } from "./_service.ts";

const SAMPLE_MS = 500;

/** Whether a container is on a network with interfaces of its own (not none, host or container:). */
function hasBridge(c: ContainerRecord): boolean {
  return Object.keys(c.NetworkSettings?.Networks ?? {}).some((n) => n !== "none" && n !== "host");
}

/** `stats [OPTIONS] [CONTAINER...]` */
export const stats: Command = {
  usage: "[OPTIONS] [CONTAINER...]",
  summary: "Display a live stream of container(s) resource usage statistics",
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Show all containers (default shows just running)",
    },
    {
      name: "no-stream",
      type: "bool",
      description: "Disable streaming stats and only pull the first result",
    },
    { name: "no-trunc", type: "bool", description: "Do not truncate output" },
    {
      name: "format",
      type: "string",
      value: "string",
      description: "Format output using a custom template",
    },
  ],
  async run(ctx, flags, args) {
    const service = containerService(ctx);
    const pick = async (): Promise<ContainerRecord[]> =>
      args.length > 0
        ? await Promise.all(args.map((a) => service.get(a)))
        : (await service.list()).filter((c) => c.State.Running || bool(flags, "all"));
    for (let first = true;; first = false) {
      const containers = await pick();
      const before = new Map<string, number>();
      for (const c of containers.filter((c) => c.State.Running)) {
        before.set(c.Id, (await service.stats(c.Id)).stats.cpuNanos);
      }
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
      const elapsed = (performance.now() - t0) * 1e6;
      const rows = [];
      for (const c of containers) {
        const row = {
          ID: bool(flags, "no-trunc") ? c.Id : c.Id.slice(0, 12),
          Container: c.Name.slice(1),
          Name: c.Name.slice(1),
          CPUPerc: "--",
          MemUsage: "-- / --",
          MemPerc: "--",
          NetIO: "--",
          BlockIO: "--",
          PIDs: "--",
        };
        if (c.State.Running && before.has(c.Id)) {
          try {
            const { stats: s } = await service.stats(c.Id);
            row.CPUPerc = `${(((s.cpuNanos - before.get(c.Id)!) / elapsed) * 100).toFixed(2)}%`;
            row.MemUsage = `${bytesSize(s.memoryUsage)} / ${bytesSize(s.memoryLimit)}`;
            row.MemPerc = `${((s.memoryUsage / s.memoryLimit) * 100).toFixed(2)}%`;
            row.PIDs = String(s.pids);
            row.BlockIO = `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`;
            // Only a bridge network has interfaces of the container's own to count:
            // none, host and container: show nothing, as docker's.
            row.NetIO = hasBridge(c)
              ? `${humanSize(s.networkRx)} / ${humanSize(s.networkTx)}`
              : "0B / 0B";
          } catch {
            // it stopped meanwhile
          }
        }
        rows.push(row);
      }
      if (!first && ctx.stdoutIsTerminal) ctx.print("\x1b[2J\x1b[H");
      await printRows(ctx, rows, {
        format: str(flags, "format"),
        columns: [
          { header: "CONTAINER ID", field: "ID" },
          { header: "NAME", field: "Name" },
          { header: "CPU %", field: "CPUPerc" },
          { header: "MEM USAGE / LIMIT", field: "MemUsage" },
          { header: "MEM %", field: "MemPerc" },
          { header: "NET I/O", field: "NetIO" },
          { header: "BLOCK I/O", field: "BlockIO" },
          { header: "PIDS", field: "PIDs" },
        ],
      });
      if (bool(flags, "no-stream")) return 0;
    }
  },
};
