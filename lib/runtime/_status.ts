/**
 * The launcher's side of the status pipe: JSON lines from init, read on a
 * worker thread; EOF means init exec'd the container process (or died).
 *
 * @module
 */
import { closeFd, readAsync } from "../../ffi/fd.ts";
import { EngineError, EXIT_ENGINE } from "../errors.ts";

/** One message from init. */
export type StatusMessage =
  | { ready?: true; console?: number }
  | { error: string; code: number; command?: string };

/** Reads JSON lines from init's status pipe. */
export class StatusReader {
  #fd: number;
  #pending = "";
  #closed = false;
  #decoder = new TextDecoder();

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** The next message, or undefined at EOF. */
  async next(): Promise<StatusMessage | undefined> {
    const buf = new Uint8Array(1024);
    while (!this.#pending.includes("\n")) {
      if (this.#closed) return undefined;
      const n = await readAsync(this.#fd, buf);
      if (n <= 0) {
        this.close();
        return undefined;
      }
      this.#pending += this.#decoder.decode(buf.subarray(0, n), { stream: true });
    }
    const at = this.#pending.indexOf("\n");
    const line = this.#pending.slice(0, at);
    this.#pending = this.#pending.slice(at + 1);
    return JSON.parse(line);
  }

  /** Closes the pipe (idempotent). */
  close(): void {
    if (!this.#closed) closeFd(this.#fd);
    this.#closed = true;
  }
}

/** Turns an init error message into the error to throw. */
export function initError(message: { error: string; code: number }): EngineError {
  return new EngineError(message.error, { exitCode: message.code || EXIT_ENGINE });
}
