/**
 * The events log: what every berth process did, one JSON line per event in
 * `<root>/events.log`, so `events` shows the actions of other processes too.
 *
 * Each event is one `write` of one line shorter than PIPE_BUF to a file
 * opened with O_APPEND, so lines of concurrent writers never interleave. The
 * log is bounded: past {@linkcode MAX_LOG_BYTES} it is renamed to
 * `events.log.1` (the previous one is dropped) and a new one begins.
 *
 * @module
 */

/** An event as Docker's API gives it. */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  time: number;
  /** Nanoseconds since the epoch, exact (written to JSON as a plain number). */
  timeNano: bigint;
  /** Docker's legacy fields, for containers and images. */
  status?: string;
  id?: string;
  from?: string;
}

/** The size past which the log is rotated. */
export const MAX_LOG_BYTES = 1 << 20;
/** Lines no longer than this are written by one atomic append (Linux PIPE_BUF). */
const PIPE_BUF = 4096;

/** The log's path in a store root. */
export function eventsLogPath(root: string): string {
  return `${root}/events.log`;
}

const encoder = new TextEncoder();

/** Builds an event stamped now (nanoseconds from the wall clock). */
export function makeEvent(
  type: string,
  action: string,
  id: string,
  attributes: Record<string, string> = {},
): EngineEvent {
  // The monotonic clock from the process's origin: microseconds, in order within a process.
  const us = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
  const timeNano = us * 1000n;
  const event: EngineEvent = {
    Type: type,
    Action: action,
    Actor: { ID: id, Attributes: attributes },
    scope: "local",
    time: Number(timeNano / 1_000_000_000n),
    timeNano,
  };
  if (type === "container" || type === "image") {
    return {
      status: action,
      id,
      ...(attributes.image ? { from: attributes.image } : {}),
      ...event,
    };
  }
  return event;
}

const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** An event as Docker's JSON (its exact `timeNano` a plain number). */
export function eventJson(event: EngineEvent): string {
  return JSON.stringify({ ...event, timeNano: rawJSON(String(event.timeNano)) });
}

/** Parses one logged line. @throws {SyntaxError} for a torn line */
export function parseEvent(line: string): EngineEvent {
  return JSON.parse(
    line,
    (key, value, context?: { source?: string }) =>
      key === "timeNano" && context?.source !== undefined ? BigInt(context.source) : value,
  );
}

/** The one line an event is written as; attributes are shortened to keep it under PIPE_BUF. */
export function eventLine(event: EngineEvent): Uint8Array {
  let bytes = encoder.encode(eventJson(event) + "\n");
  if (bytes.length < PIPE_BUF) return bytes;
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.Actor.Attributes)) attributes[k] = v.slice(0, 64);
  bytes = encoder.encode(
    eventJson({ ...event, Actor: { ...event.Actor, Attributes: attributes } }) + "\n",
  );
  if (bytes.length < PIPE_BUF) return bytes;
  return encoder.encode(
    eventJson({ ...event, Actor: { ID: event.Actor.ID, Attributes: {} } }) + "\n",
  );
}

function rotateIfLarge(path: string): void {
  let size: number;
  let ino: number | null;
  try {
    ({ size, ino } = Deno.statSync(path));
  } catch {
    return;
  }
  if (size <= MAX_LOG_BYTES) return;
  // Another process may have rotated meanwhile: rename only the same, still large, file.
  try {
    const again = Deno.statSync(path);
    if (again.ino !== ino) return;
    Deno.renameSync(path, `${path}.1`);
  } catch {
    // rotated by another process
  }
}

/**
 * Appends an event to the log of `root`. Never throws: an action that
 * happened is not undone because its event could not be written.
 */
export function recordEvent(
  root: string,
  type: string,
  action: string,
  id: string,
  attributes: Record<string, string> = {},
): void {
  try {
    const path = eventsLogPath(root);
    rotateIfLarge(path);
    const file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
    try {
      file.writeSync(eventLine(makeEvent(type, action, id, attributes)));
    } finally {
      file.close();
    }
  } catch {
    // the store may be read-only or gone; the action stands
  }
}

/** Which events `events` shows: Docker's `--filter` keys, each a set of accepted values. */
export interface EventFilter {
  /** Nanoseconds since the epoch. */
  since?: bigint | undefined;
  until?: bigint | undefined;
  /** key -> accepted values (`type`, `event`, `container`, `image`, `volume`, `network`, `label`). */
  filters?: Map<string, string[]>;
}

/** Whether an event passes the filter (times in nanoseconds). */
export function matchesEvent(event: EngineEvent, filter: EventFilter): boolean {
  if (filter.since !== undefined && event.timeNano < filter.since) return false;
  if (filter.until !== undefined && event.timeNano > filter.until) return false;
  for (const [key, values] of filter.filters ?? []) {
    const attrs = event.Actor.Attributes;
    const ok = values.some((v) => {
      switch (key) {
        case "type":
          return event.Type === v;
        case "event":
          return event.Action === v || event.Action.split(":")[0] === v;
        case "container":
        case "volume":
        case "network":
          return event.Type === key &&
            (event.Actor.ID === v || event.Actor.ID.startsWith(v) || attrs.name === v);
        case "image":
          return (event.Type === "image" && (event.Actor.ID === v || attrs.name === v)) ||
            (event.Type === "container" && attrs.image === v) ||
            attrs.image === v;
        case "label": {
          const eq = v.indexOf("=");
          return eq < 0 ? v in attrs : attrs[v.slice(0, eq)] === v.slice(eq + 1);
        }
        default:
          return false;
      }
    });
    if (!ok) return false;
  }
  return true;
}

function parseLines(text: string): EngineEvent[] {
  const out: EngineEvent[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      out.push(parseEvent(line));
    } catch {
      // a torn line (a full disk): skip it
    }
  }
  return out;
}

/** Every logged event (the rotated file first), oldest first. */
export function readEvents(root: string): EngineEvent[] {
  const path = eventsLogPath(root);
  const out: EngineEvent[] = [];
  for (const p of [`${path}.1`, path]) {
    try {
      out.push(...parseLines(Deno.readTextFileSync(p)));
    } catch {
      // none yet
    }
  }
  return out.sort((a, b) => (a.timeNano < b.timeNano ? -1 : a.timeNano > b.timeNano ? 1 : 0));
}

/**
 * Events as they are appended, from the log's current end (or with
 * `fromStart` from the oldest logged one): follows the log across rotations
 * until `signal` aborts. Polls every `intervalMs`.
 */
export async function* followEvents(
  root: string,
  signal: AbortSignal,
  options: { fromStart?: boolean; intervalMs?: number } = {},
): AsyncGenerator<EngineEvent> {
  const intervalMs = options.intervalMs ?? 100;
  const path = eventsLogPath(root);
  if (options.fromStart) {
    try {
      yield* parseLines(Deno.readTextFileSync(`${path}.1`));
    } catch {
      // never rotated
    }
  }
  const decoder = new TextDecoder();
  let file: Deno.FsFile | undefined;
  let ino: number | null = null;
  let rest = "";
  const open = (atEnd: boolean) => {
    try {
      file = Deno.openSync(path, { read: true });
      ino = file.statSync().ino;
      if (atEnd) file.seekSync(0, Deno.SeekMode.End);
    } catch {
      file = undefined;
    }
  };
  open(!options.fromStart);
  const buf = new Uint8Array(64 * 1024);
  const drain = function* (): Generator<EngineEvent> {
    if (file === undefined) return;
    for (;;) {
      const n = file.readSync(buf);
      if (n === null || n === 0) break;
      rest += decoder.decode(buf.subarray(0, n), { stream: true });
    }
    const end = rest.lastIndexOf("\n");
    if (end < 0) return;
    const complete = rest.slice(0, end + 1);
    rest = rest.slice(end + 1);
    yield* parseLines(complete);
  };
  try {
    while (!signal.aborted) {
      yield* drain();
      let current: number | null = null;
      try {
        current = Deno.statSync(path).ino;
      } catch {
        // not there (yet)
      }
      if (current !== null && current !== ino) {
        // rotated, or created: finish the old file, then read the new one from its start
        yield* drain();
        file?.close();
        rest = "";
        open(false);
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, intervalMs);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  } finally {
    file?.close();
  }
}

/** What a container event needs of the container records (structural, so nothing more loads). */
interface ContainerRecords {
  readonly root: string;
  read(id: string): {
    Id: string;
    Name: string;
    Config: { Image: string; Labels?: Record<string, string> | null };
  };
}

/**
 * Records a container event with Docker's attributes (its labels, `image`,
 * `name`, and `extra` such as `exitCode`). Never throws; a container
 * removed meanwhile gets its event with only `extra`.
 */
export function containerEvent(
  records: ContainerRecords,
  action: string,
  id: string,
  extra: Record<string, string> = {},
): void {
  let attributes: Record<string, string> = extra;
  try {
    const r = records.read(id);
    attributes = {
      ...(r.Config.Labels ?? {}),
      image: r.Config.Image,
      name: r.Name.replace(/^\//, ""),
      ...extra,
    };
  } catch {
    // removed meanwhile
  }
  recordEvent(records.root, "container", action, id, attributes);
}

/**
 * Records what `rmi` and `image prune` did: `untag` per removed name, then
 * `delete` per deleted image (Docker's order), keyed by the image ID
 * (`id`, or the one deleted).
 */
export function imageEvents(
  root: string,
  removed: readonly { action: "Untagged" | "Deleted"; value: string }[],
  id?: string,
): void {
  const deleted = removed.filter((e) => e.action === "Deleted").map((e) => e.value);
  const untagged = id ?? (deleted.length === 1 ? deleted[0] : undefined);
  for (const e of removed) {
    if (e.action === "Untagged") {
      recordEvent(root, "image", "untag", untagged ?? e.value, { name: e.value });
    }
  }
  for (const d of deleted) recordEvent(root, "image", "delete", d, { name: d });
}
