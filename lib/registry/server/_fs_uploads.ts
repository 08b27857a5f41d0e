/**
 * Upload sessions on disk for {@linkcode FsStorage}: each is a folder with the
 * bytes received so far and the repository it belongs to. Bytes are hashed as
 * they arrive; a chunk cut short is truncated away so the session stays whole.
 *
 * @module
 */
import { type Digest, Hasher } from "../../digest.ts";
import { RegistryError } from "../_errors.ts";
import { copyToFile, listNames, removeIfExists, statOrUndefined } from "./_fs_util.ts";
import type { AppendOptions, BlobInfo, UploadInfo, WriteOptions } from "./storage.ts";

const ID_RE = /^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$/;

/** Moves a verified temp file into the blob store. */
export type CommitBlob = (tmp: { path: string; digest: Digest }) => Promise<void>;

/** The upload sessions under `<root>/uploads`. */
export class FsUploads {
  #dir: string;
  #commit: CommitBlob;
  /** Running hashes of sessions whose bytes all came through this process. */
  #hashers = new Map<string, Hasher>();
  /** Serialises operations on one session. */
  #locks = new Map<string, Promise<unknown>>();

  constructor(root: string, commit: CommitBlob) {
    this.#dir = `${root}/uploads`;
    this.#commit = commit;
  }

  #lock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.#locks.set(id, next);
    const clear = () => {
      if (this.#locks.get(id) === next) this.#locks.delete(id);
    };
    next.then(clear, clear);
    return next;
  }

  async create(repo: string): Promise<UploadInfo> {
    const id = crypto.randomUUID();
    const startedAt = new Date();
    await Deno.mkdir(`${this.#dir}/${id}`, { recursive: true });
    await Deno.writeFile(`${this.#dir}/${id}/data`, new Uint8Array());
    await Deno.writeTextFile(`${this.#dir}/${id}/info.json`, JSON.stringify({ repo, startedAt }));
    this.#hashers.set(id, new Hasher());
    return { id, repo, size: 0, startedAt };
  }

  async get(repo: string, id: string): Promise<UploadInfo | undefined> {
    if (!ID_RE.test(id)) return undefined;
    try {
      const info = JSON.parse(await Deno.readTextFile(`${this.#dir}/${id}/info.json`));
      const stat = await Deno.stat(`${this.#dir}/${id}/data`);
      if (info.repo !== repo) return undefined;
      return { id, repo, size: stat.size, startedAt: new Date(info.startedAt) };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  async #require(repo: string, id: string): Promise<UploadInfo> {
    const info = await this.get(repo, id);
    if (info === undefined) {
      throw new RegistryError("BLOB_UPLOAD_UNKNOWN", undefined, { detail: { uuid: id } });
    }
    return info;
  }

  append(
    repo: string,
    id: string,
    stream: ReadableStream<Uint8Array> | null,
    options: AppendOptions = {},
  ) {
    return this.#lock(id, async (): Promise<UploadInfo> => {
      const info = await this.#require(repo, id);
      if (options.offset !== undefined && options.offset !== info.size) {
        await stream?.cancel().catch(() => {});
        throw new RegistryError(
          "BLOB_UPLOAD_INVALID",
          `Chunk starts at ${options.offset}, upload is at ${info.size}`,
          {
            status: 416,
            detail: { offset: info.size },
          },
        );
      }
      let hasher = this.#hashers.get(id);
      if (hasher !== undefined && hasher.size !== info.size) hasher = undefined;
      this.#hashers.delete(id);
      const file = await Deno.open(`${this.#dir}/${id}/data`, { write: true });
      let written = 0;
      try {
        await file.seek(info.size, Deno.SeekMode.Start);
        written = await copyToFile(stream, file, {
          hasher,
          maxSize: options.maxSize,
          already: info.size,
        });
        if (options.length !== undefined && written !== options.length) {
          throw new RegistryError(
            "BLOB_UPLOAD_INVALID",
            `Chunk has ${written} bytes, ${options.length} announced`,
            {
              status: 400,
            },
          );
        }
      } catch (error) {
        await file.truncate(info.size);
        throw error;
      } finally {
        file.close();
      }
      if (hasher !== undefined) this.#hashers.set(id, hasher);
      return { ...info, size: info.size + written };
    });
  }

  finish(repo: string, id: string, expected: Digest): Promise<BlobInfo> {
    return this.#lock(id, async () => {
      const info = await this.#require(repo, id);
      const path = `${this.#dir}/${id}/data`;
      try {
        let hasher = this.#hashers.get(id);
        if (hasher === undefined || hasher.size !== info.size) hasher = await hashFile(path);
        const actual = hasher.digest();
        if (actual !== expected) throw mismatch(expected, actual);
        await this.#commit({ path, digest: actual });
        return { digest: actual, size: info.size };
      } finally {
        this.#hashers.delete(id);
        await removeIfExists(`${this.#dir}/${id}`, true);
      }
    });
  }

  cancel(repo: string, id: string): Promise<boolean> {
    return this.#lock(id, async () => {
      if ((await this.get(repo, id)) === undefined) return false;
      this.#hashers.delete(id);
      return await removeIfExists(`${this.#dir}/${id}`, true);
    });
  }

  /**
   * Removes sessions with no bytes written since `before` (by the data file's
   * mtime; a folder a crash left without one, by its own), except those this
   * process is writing. With `dryRun`, only lists them.
   */
  async expire(before: Date, dryRun = false): Promise<string[]> {
    const gone: string[] = [];
    for (const entry of await listNames(this.#dir)) {
      if (this.#locks.has(entry.name)) continue;
      const stat = await statOrUndefined(`${this.#dir}/${entry.name}/data`);
      const time = stat?.mtime ?? (await statOrUndefined(`${this.#dir}/${entry.name}`))?.mtime;
      if (time === undefined || time === null || time < before) {
        gone.push(entry.name);
        if (dryRun) continue;
        this.#hashers.delete(entry.name);
        await removeIfExists(`${this.#dir}/${entry.name}`, true);
      }
    }
    return gone;
  }

  /** Streams into a temp file in `tmpDir`, checks the digest, then commits it. */
  async writeVerified(
    stream: ReadableStream<Uint8Array>,
    expected: Digest,
    tmpDir: string,
    options: WriteOptions,
  ): Promise<BlobInfo> {
    const path = `${tmpDir}/${crypto.randomUUID()}`;
    const hasher = new Hasher();
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      try {
        await copyToFile(stream, file, { hasher, maxSize: options.maxSize });
      } finally {
        file.close();
      }
      const actual = hasher.digest();
      if (actual !== expected) throw mismatch(expected, actual);
      await this.#commit({ path, digest: actual });
      return { digest: actual, size: hasher.size };
    } finally {
      await removeIfExists(path);
    }
  }
}

function mismatch(expected: Digest, actual: Digest): RegistryError {
  return new RegistryError(
    "DIGEST_INVALID",
    `Digest mismatch: expected "${expected}", got "${actual}"`,
    {
      detail: { expected, actual },
    },
  );
}

async function hashFile(path: string): Promise<Hasher> {
  const hasher = new Hasher();
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hasher.update(chunk);
  return hasher;
}
