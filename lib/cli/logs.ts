/**
 * `berth logs`: a container's output from its log (k8s-file, or an older
 * berth's json-file). It loads only the engine's read side.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import {
  ContainerReader,
  Engine,
  filterLogs,
  type LogEntry,
  readLogChunk,
} from "../engine/read.ts";
import { bool, type Command, str, writeAllSync } from "./_command.ts";
import { parseDuration } from "./_units.ts";

/** `--since`/`--until`: RFC 3339 times, Unix timestamps, or durations before now (`10m`). */
export function parseTimeArg(value: string, flag: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (!Number.isNaN(t)) return t;
  try {
    return now - parseDuration(value);
  } catch {
    throw new UsageError(`invalid value for "${flag}": "${value}"`);
  }
}

/** `logs [OPTIONS] CONTAINER` */
export const logs: Command = {
  usage: "[OPTIONS] CONTAINER",
  summary: "Fetch the logs of a container",
  args: { min: 1, max: 1 },
  flags: [
    { name: "follow", short: "f", type: "bool", description: "Follow log output" },
    {
      name: "since",
      type: "string",
      value: "string",
      description: "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)",
    },
    {
      name: "until",
      type: "string",
      value: "string",
      description: "Show logs before a timestamp or relative",
    },
    {
      name: "tail",
      short: "n",
      type: "string",
      value: "string",
      description: "Number of lines to show from the end of the logs",
      default: "all",
    },
    { name: "timestamps", short: "t", type: "bool", description: "Show timestamps" },
  ],
  async run(ctx, flags, args) {
    const service = new ContainerReader(Engine.open(ctx.root, { reading: true }).store, {
      self: ctx.self,
      runRoot: ctx.runRoot,
    });
    let record = await service.get(args[0]!);
    const since = str(flags, "since");
    const until = str(flags, "until");
    const tailText = str(flags, "tail") ?? "all";
    if (tailText !== "all" && !/^-?\d+$/.test(tailText)) {
      throw new UsageError(`invalid value for "--tail": "${tailText}"`);
    }
    const options = {
      ...(since ? { since: parseTimeArg(since, "--since") } : {}),
      ...(until ? { until: parseTimeArg(until, "--until") } : {}),
      ...(tailText !== "all" && Number(tailText) >= 0 ? { tail: Number(tailText) } : {}),
    };
    const stamps = bool(flags, "timestamps");
    const encoder = new TextEncoder();
    const show = (entries: LogEntry[]) => {
      for (const e of entries) {
        const text = stamps ? `${e.time} ${e.log}` : e.log;
        writeAllSync(e.stream === "stderr" ? Deno.stderr : Deno.stdout, encoder.encode(text));
      }
    };
    const path = service.logPath(record);
    let { entries, offset } = readLogChunk(path);
    show(filterLogs(entries, options));
    if (!bool(flags, "follow")) return 0;
    const { tail: _tail, ...followOptions } = options;
    for (;;) {
      const live = record.State.Running || record.State.Restarting;
      await new Promise((r) => setTimeout(r, 100));
      ({ entries, offset } = readLogChunk(path, offset));
      show(filterLogs(entries, followOptions));
      if (!live) return 0;
      if (followOptions.until !== undefined && Date.now() >= followOptions.until) return 0;
      try {
        record = await service.get(record.Id);
      } catch {
        return 0;
      }
    }
  },
};
