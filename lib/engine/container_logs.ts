/**
 * Container logs in the CRI "k8s-file" format that conmon writes, one line
 * per entry: `TIME STREAM TAG TEXT`, where TIME is RFC 3339 with nanoseconds,
 * STREAM `stdout` or `stderr`, and TAG `F` for a whole line or `P` for a part
 * of a longer one (its newline comes with a later entry). A foreground `run`
 * writes the same format. Logs of containers made by an older berth are in
 * Docker's json-file format (`{"log":...,"stream":...,"time":...}`); both are
 * read, so `logs --since/--until/--tail/-t/-f` work on either.
 *
 * @module
 */
import { pathExists } from "../store/mod.ts";

/** One log entry. */
export interface LogEntry {
  log: string;
  stream: "stdout" | "stderr";
  /** RFC 3339 in UTC with nanoseconds, as `docker logs -t` prints it. */
  time: string;
}

/** The k8s-file log conmon (and a foreground run) writes. */
export const logFile = (dir: string, id: string): string => `${dir}/${id}.log`;

/**
 * The log of the container in `dir`: its k8s-file log, or the json-file one
 * an older berth wrote for a container that has not run since.
 */
export function containerLogPath(dir: string, id: string): string {
  const current = logFile(dir, id);
  const legacy = `${dir}/${id}-json.log`;
  return !pathExists(current) && pathExists(legacy) ? legacy : current;
}

/** Docker splits lines longer than 16 KiB; keep memory bounded the same way. */
const MAX_LINE = 16384;

/** Appends a container's output to its k8s-file log, an entry per line. */
export class LogWriter {
  #file: Deno.FsFile;
  #partial: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
  #decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  #encoder = new TextEncoder();

  constructor(path: string) {
    this.#file = Deno.openSync(path, { append: true, create: true, mode: 0o640 });
  }

  /** Records bytes the container wrote; whole lines become entries. */
  write(stream: "stdout" | "stderr", bytes: Uint8Array): void {
    const text = this.#partial[stream] + this.#decoders[stream].decode(bytes, { stream: true });
    const lines = text.split("\n");
    this.#partial[stream] = lines.pop()!;
    const time = nanoTime();
    let out = "";
    for (const line of lines) out += `${time} ${stream} F ${line}\n`;
    if (this.#partial[stream].length > MAX_LINE) {
      out += `${time} ${stream} P ${this.#partial[stream]}\n`;
      this.#partial[stream] = "";
    }
    if (out !== "") this.#append(out);
  }

  /** Writes what is left of unterminated lines and closes the file. */
  close(): void {
    const time = nanoTime();
    let out = "";
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.#partial[stream] + this.#decoders[stream].decode();
      if (rest !== "") out += `${time} ${stream} P ${rest}\n`;
    }
    if (out !== "") this.#append(out);
    this.#file.close();
  }

  #append(text: string): void {
    const bytes = this.#encoder.encode(text);
    let off = 0;
    while (off < bytes.length) off += this.#file.writeSync(bytes.subarray(off));
  }
}

/**
 * RFC 3339 with nanoseconds, as Docker writes log times. Without a date, the
 * time is the high-resolution clock's (sub-microsecond digits), unless that
 * has drifted from the wall clock by a millisecond or more.
 */
export function nanoTime(date?: Date): string {
  const wall = date?.getTime() ?? Date.now();
  const precise = performance.timeOrigin + performance.now();
  const ms = date === undefined && Math.abs(precise - wall) < 1 ? precise : wall;
  const whole = Math.floor(ms);
  const nanos = Math.min(999_999, Math.floor((ms - whole) * 1e6));
  return `${new Date(whole).toISOString().slice(0, 19)}.${String(whole % 1000).padStart(3, "0")}${
    String(nanos).padStart(6, "0")
  }Z`;
}

const K8S_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** A log line's time in UTC with nine fraction digits (conmon writes local time with an offset). */
export function utcNanoTime(text: string): string | undefined {
  const m = K8S_TIME.exec(text);
  if (m === null) return undefined;
  const fraction = (m[2] ?? "").padEnd(9, "0");
  if (m[3] === "Z" || m[3] === "+00:00" || m[3] === "-00:00") return `${m[1]}.${fraction}Z`;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** Parses one log line of either format; undefined for a line that is neither. */
export function parseLogLine(line: string): LogEntry | undefined {
  if (line.startsWith("{")) {
    try {
      const e = JSON.parse(line) as LogEntry;
      return typeof e.log === "string" ? e : undefined;
    } catch {
      return undefined;
    }
  }
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  const c = line.indexOf(" ", b + 1);
  if (a < 0 || b < 0) return undefined;
  const time = utcNanoTime(line.slice(0, a));
  const stream = line.slice(a + 1, b);
  // A line conmon wrote for an empty write has no text after the tag.
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  if (time === undefined || (stream !== "stdout" && stream !== "stderr")) return undefined;
  if (tag !== "F" && tag !== "P") return undefined;
  const text = c < 0 ? "" : line.slice(c + 1);
  return { log: tag === "F" ? `${text}\n` : text, stream, time };
}

/** Options for {@linkcode readLogs}. */
export interface ReadLogsOptions {
  /** Only entries at or after this time (ms since the epoch). */
  since?: number;
  /** Only entries before this time. */
  until?: number;
  /** Only the last N entries (after the time filters). */
  tail?: number;
}

/** Reads entries of a log file from byte `offset`; returns them and the offset after the last whole line. */
export function readLogChunk(path: string, offset = 0): { entries: LogEntry[]; offset: number } {
  let bytes: Uint8Array;
  try {
    const file = Deno.openSync(path);
    try {
      const size = file.statSync().size;
      bytes = new Uint8Array(Math.max(0, size - offset));
      file.seekSync(offset, Deno.SeekMode.Start);
      let read = 0;
      while (read < bytes.length) {
        const n = file.readSync(bytes.subarray(read));
        if (n === null || n === 0) break;
        read += n;
      }
      bytes = bytes.subarray(0, read);
    } finally {
      file.close();
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { entries: [], offset };
    throw error;
  }
  const end = bytes.lastIndexOf(10) + 1;
  const text = new TextDecoder().decode(bytes.subarray(0, end));
  const entries: LogEntry[] = [];
  for (const line of text.split("\n")) {
    const entry = line === "" ? undefined : parseLogLine(line);
    if (entry !== undefined) entries.push(entry);
  }
  return { entries, offset: offset + end };
}

/** Filters entries by time and tail, as `docker logs` does. */
export function filterLogs(entries: LogEntry[], options: ReadLogsOptions): LogEntry[] {
  let out = entries.filter((e) => {
    const t = Date.parse(e.time);
    return (options.since === undefined || t >= options.since) &&
      (options.until === undefined || t < options.until);
  });
  if (options.tail !== undefined && options.tail >= 0) {
    out = options.tail === 0 ? [] : out.slice(-options.tail);
  }
  return out;
}

/**
 * conmon's `--log-size-max` for `--log-opt max-size` (json-file or local):
 * when the log would pass it, conmon starts the file afresh. conmon keeps no
 * rotated files, so `max-file` is recorded but berth keeps one file (Docker's
 * json-file default, max-file=1); `logs` shows what the current file holds.
 */
export function logSizeMax(config: Record<string, string> | undefined): number | undefined {
  const value = config?.["max-size"];
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(value.trim());
  if (m === null) return undefined;
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  return Math.trunc(Number(m[1]) * unit);
}
