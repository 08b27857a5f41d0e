/**
 * `berth events`: what berth processes did, from the events log under the
 * root (see lib/engine/events.ts). Without `--until` it follows the log
 * until interrupted; with `--until` it prints what happened up to then (and
 * waits for a time still to come). `--since`/`--until` take what Docker
 * takes: Unix seconds (`1700000000.5`), RFC 3339 dates, or Go durations
 * meaning that long ago (`10m`).
 *
 * @module
 */
import { EngineError, UsageError } from "../errors.ts";
import {
  type EngineEvent,
  type EventFilter,
  followEvents,
  matchesEvent,
} from "../engine/events.ts";
import { type Command, list, str } from "./_command.ts";
import { parseDuration } from "./_units.ts";

const FILTER_KEYS = [
  "config",
  "container",
  "daemon",
  "event",
  "image",
  "label",
  "network",
  "node",
  "plugin",
  "scope",
  "secret",
  "service",
  "type",
  "volume",
];
const TYPES = [
  "container",
  "image",
  "volume",
  "network",
  "daemon",
  "plugin",
  "service",
  "node",
  "secret",
  "config",
  "builder",
];

/**
 * A `--since`/`--until` value as nanoseconds since the epoch.
 * @throws {EngineError} (exit 1) for a value that is none of Docker's forms
 */
export function parseEventTime(value: string, now = Date.now()): bigint {
  if (/^\d+(\.\d{1,9})?$/.test(value)) {
    const [sec = "0", frac = ""] = value.split(".");
    return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
  }
  try {
    return BigInt(Math.round(now - parseDuration(value))) * 1_000_000n;
  } catch {
    // not a duration
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new EngineError(`failed to parse value as time or duration: "${value}"`, {
      exitCode: 1,
    });
  }
  return BigInt(ms) * 1_000_000n;
}

const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** An event as `--format` templates see it: Docker's Go field names, its JSON names for `json`. */
export function templateEvent(event: EngineEvent): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event };
  const goNames: Record<string, unknown> = {
    Status: event.status ?? "",
    ID: event.id ?? "",
    From: event.from ?? "",
    Scope: event.scope,
    Time: event.time,
    TimeNano: event.timeNano,
  };
  // `{{json .}}` writes the exact nanoseconds as a plain number, as Docker does.
  data.timeNano = rawJSON(String(event.timeNano));
  for (const [k, v] of Object.entries(goNames)) {
    Object.defineProperty(data, k, { value: v, enumerable: false });
  }
  return data;
}

/** Docker's human line: `2026-12-08T04:00:00.000000000Z container start ID (image=x, name=y)`. */
export function humanEvent(event: EngineEvent): string {
  const ms = Number(event.timeNano / 1_000_000n);
  const nanos = String(event.timeNano % 1_000_000_000n).padStart(9, "0");
  const time = `${new Date(ms).toISOString().slice(0, 19)}.${nanos}Z`;
  const attrs = Object.entries(event.Actor.Attributes).sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);
  return `${time} ${event.Type} ${event.Action} ${event.Actor.ID}${
    attrs.length > 0 ? ` (${attrs.join(", ")})` : ""
  }`;
}

/** `events [OPTIONS]` */
export const events: Command = {
  usage: "[OPTIONS]",
  summary: "Get real time events from the server",
  args: { max: 0 },
  flags: [
    {
      name: "filter",
      short: "f",
      type: "list",
      value: "filter",
      description: "Filter output based on conditions provided",
    },
    {
      name: "format",
      type: "string",
      value: "string",
      description: "Format output using a custom template: 'json' or a Go template",
    },
    {
      name: "since",
      type: "string",
      value: "string",
      description: "Show all events created since timestamp",
    },
    {
      name: "until",
      type: "string",
      value: "string",
      description: "Stream events until this timestamp",
    },
  ],
  async run(ctx, flags) {
    const now = Date.now();
    const sinceFlag = str(flags, "since");
    const untilFlag = str(flags, "until");
    const since = sinceFlag === undefined ? undefined : parseEventTime(sinceFlag, now);
    const until = untilFlag === undefined ? undefined : parseEventTime(untilFlag, now);
    const filters = new Map<string, string[]>();
    for (const f of list(flags, "filter")) {
      const eq = f.indexOf("=");
      if (eq < 0) throw new UsageError(`bad format of filter (expected name=value)`);
      const [key, value] = [f.slice(0, eq), f.slice(eq + 1)];
      // The daemon's checks in Docker: its words, exit status 1.
      if (!FILTER_KEYS.includes(key)) {
        throw new EngineError(`invalid filter '${key}'`, { exitCode: 1 });
      }
      if (key === "type" && !TYPES.includes(value)) {
        throw new EngineError(`Invalid event type: ${value}`, { exitCode: 1 });
      }
      filters.set(key, [...(filters.get(key) ?? []), value]);
    }
    const filter: EventFilter = { since, until, filters };
    const format = str(flags, "format");
    let render = (e: EngineEvent) => humanEvent(e);
    if (format !== undefined && format !== "") {
      const { parseFormat, renderTemplate } = await import("./_template.ts");
      const { template } = parseFormat(format);
      // Docker's events are Go structs whose Attributes is a map: a missing key prints `<no value>`.
      render = (e) => renderTemplate(template, templateEvent(e), { missingKey: "default" });
    }
    const controller = new AbortController();
    const stop = () => controller.abort();
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    for (const s of signals) Deno.addSignalListener(s, stop);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (until !== undefined) {
      timer = setTimeout(stop, Math.max(0, Number(until / 1_000_000n) - Date.now()));
    }
    try {
      for await (
        const event of followEvents(ctx.root, controller.signal, {
          fromStart: since !== undefined || until !== undefined,
        })
      ) {
        if (until !== undefined && event.timeNano > until) break;
        if (matchesEvent(event, filter)) ctx.print(`${render(event)}\n`);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      for (const s of signals) Deno.removeSignalListener(s, stop);
    }
    return 0;
  },
};
