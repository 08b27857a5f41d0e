/**
 * Layer downloads that survive the process: bytes go to
 * `<root>/downloads/<hex>-<pid>-<n>` (never to `blobs/` before the digest is
 * checked). A pull that dies (`kill -9`, a lost connection after the retries)
 * leaves its partial file; the next pull of the blob adopts a partial whose
 * process is gone (atomic rename to its own pid, so two pulls never share
 * one), re-hashes it and asks the registry only for the rest with `Range`.
 * `tmp/` cannot hold these: opening the store clears dead processes' files there.
 *
 * @module
 */
import { type Digest, digestHex, Hasher, verifyDigest } from "../digest.ts";
import type { StagedBlob } from "../store/mod.ts";

/** Partials of dead processes older than this are removed. */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Tells apart two downloads of one blob in one process (a manifest may list a layer twice). */
let counter = 0;

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** A blob being downloaded into `<root>/downloads/`. */
export class PartialDownload {
  readonly path: string;
  /** Bytes already on disk when it was opened (the download resumes there). */
  readonly offset: number;
  /** Has seen exactly the bytes written so far. */
  readonly hasher: Hasher;
  #file: Deno.FsFile;

  private constructor(path: string, offset: number, hasher: Hasher) {
    this.path = path;
    this.offset = offset;
    this.hasher = hasher;
    this.#file = Deno.openSync(path, { append: true, create: true, mode: 0o644 });
  }

  /**
   * Adopts the partial download of a blob that a dead process left, or
   * starts a new one; removes stale partials on the way.
   * @param size the blob's size: a longer partial is dropped
   */
  static open(root: string, blob: { digest: Digest; size: number }): PartialDownload {
    const dir = `${root}/downloads`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const hex = digestHex(blob.digest);
    const mine = `${dir}/${hex}-${Deno.pid}-${counter++}`;
    let adopted = false;
    for (const entry of Deno.readDirSync(dir)) {
      const m = /^([a-f0-9]{64})-(\d+)-\d+$/.exec(entry.name);
      if (m === null || alive(Number(m[2]))) continue;
      const path = `${dir}/${entry.name}`;
      try {
        if (m[1] === hex && !adopted && Deno.statSync(path).size <= blob.size) {
          Deno.renameSync(path, mine);
          adopted = true;
        } else if (m[1] === hex) {
          Deno.removeSync(path);
        } else if (Date.now() - (Deno.statSync(path).mtime?.getTime() ?? 0) > MAX_AGE_MS) {
          Deno.removeSync(path);
        }
      } catch {
        // another process took or removed it first
      }
    }
    const hasher = new Hasher();
    if (adopted) {
      const file = Deno.openSync(mine);
      try {
        const buf = new Uint8Array(1024 * 1024);
        for (let n = file.readSync(buf); n !== null && n > 0; n = file.readSync(buf)) {
          hasher.update(buf.subarray(0, n));
        }
      } finally {
        file.close();
      }
    }
    return new PartialDownload(mine, hasher.size, hasher);
  }

  /** The bytes already on disk, for the extractor to read before the network's. */
  async prefix(): Promise<ReadableStream<Uint8Array>> {
    const file = await Deno.open(this.path);
    const limit = this.offset;
    let read = 0;
    const reader = file.readable.getReader();
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done || read >= limit) {
          await reader.cancel().catch(() => {});
          return controller.close();
        }
        const part = value.subarray(0, Math.min(value.byteLength, limit - read));
        read += part.byteLength;
        controller.enqueue(part);
      },
      cancel: () => reader.cancel().catch(() => {}),
    });
  }

  /** Appends a chunk (hashed as it goes). */
  write(chunk: Uint8Array): void {
    this.hasher.update(chunk);
    let off = 0;
    while (off < chunk.length) off += this.#file.writeSync(chunk.subarray(off));
  }

  /**
   * Closes the file and checks its digest; the result is committed like any staged blob.
   * @throws {DigestMismatchError} (the file is removed)
   */
  finish(expected: Digest, what?: string): StagedBlob {
    this.#file.close();
    const digest = this.hasher.digest();
    try {
      verifyDigest(expected, digest, what);
    } catch (error) {
      this.#remove();
      throw error;
    }
    return { digest, size: this.hasher.size, path: this.path };
  }

  /** Closes the file and leaves it for the next pull to resume. */
  keep(): void {
    this.#close();
  }

  /** Closes and removes the file (bad content). */
  abort(): void {
    this.#close();
    this.#remove();
  }

  #close(): void {
    try {
      this.#file.close();
    } catch {
      // already closed
    }
  }

  #remove(): void {
    try {
      Deno.removeSync(this.path);
    } catch {
      // already gone
    }
  }
}
