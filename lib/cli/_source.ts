/**
 * Opens what a user names as input: a file, `-` for stdin, or an http(s) URL,
 * with its size when known (for progress bars).
 *
 * @module
 */
import { EngineError, NotFoundError } from "../errors.ts";

/** An opened input stream. */
export interface Source {
  stream: ReadableStream<Uint8Array>;
  size: number | undefined;
  /** How to name it in messages and history (`-`, a path, a URL). */
  name: string;
}

/**
 * Opens `given` for reading.
 * @throws {NotFoundError} for a missing file
 * @throws {EngineError} for an unreachable URL or an HTTP error
 */
export async function openSource(given: string): Promise<Source> {
  if (given === "-") return { stream: Deno.stdin.readable, size: undefined, name: "-" };
  if (/^https?:\/\//.test(given)) {
    let response: Response;
    try {
      response = await fetch(given);
    } catch (error) {
      throw new EngineError(`Cannot download "${given}"`, { cause: error });
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new EngineError(
        `Cannot download "${given}": HTTP ${response.status} ${response.statusText}`,
      );
    }
    const length = Number(response.headers.get("content-length") ?? NaN);
    return {
      stream: response.body,
      size: Number.isFinite(length) ? length : undefined,
      name: given,
    };
  }
  try {
    const file = await Deno.open(given);
    const info = await file.stat();
    if (info.isDirectory) {
      file.close();
      throw new EngineError(`Cannot read "${given}": is a directory`);
    }
    return { stream: file.readable, size: info.size, name: given };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`Cannot open "${given}": no such file or directory`);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new EngineError(`Cannot open "${given}": permission denied`);
    }
    throw error;
  }
}
