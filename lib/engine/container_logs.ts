/**
 * Container logs in Docker's json-file format: one JSON object a line,
 * `{"log":"text\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}`,
 * so `logs --since/--until/--tail/-t/-f` work from any berth process.
 *
 * @module
 */

/** One log entry. */
export interface LogEntry {
  log: string;
  stream: "stdout" | "stderr";
  time: string;
}

/** Appends a container's output to its json-file log, a line per entry. */
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
    for (const line of lines) out += JSON.stringify({ log: `${line}\n`, stream, time }) + "\n";
    // Docker splits lines longer than 16 KiB; keep memory bounded the same way.
    if (this.#partial[stream].length > 16384) {
      out += JSON.stringify({ log: this.#partial[stream], stream, time }) + "\n";
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
      if (rest !== "") out += JSON.stringify({ log: rest, stream, time }) + "\n";
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

/** RFC 3339 with nanoseconds, as Docker writes log times. */
export function nanoTime(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}.${
    String(date.getUTCMilliseconds()).padStart(3, "0")
  }000000Z`;
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
  const entries = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as LogEntry);
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
