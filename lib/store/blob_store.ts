/**
 * Content-addressed blobs: `<root>/blobs/sha256/<hex>`, as an OCI image
 * layout keeps them. A blob is written to `tmp/`, hashed while it streams, and
 * renamed into place only once its digest is known and checked.
 *
 * @module
 */
import {
  type Digest,
  digestHex,
  Hasher,
  loadNativeSha256,
  sha256,
  verifyDigest,
} from "../digest.ts";
import { NotFoundError } from "../errors.ts";
import { tempPath } from "./tmp.ts";

/** A blob written to `tmp/` and hashed, not yet visible in the store. */
export interface StagedBlob {
  digest: Digest;
  size: number;
  /** Its temp file; {@linkcode BlobStore.commit} renames it into place. */
  path: string;
}

/** Streams bytes into a temp file while hashing them. */
export class BlobWriter {
  readonly path: string;
  #file: Deno.FsFile;
  #hasher = new Hasher();

  constructor(tmpDir: string) {
    this.path = tempPath(tmpDir, ".blob");
    this.#file = Deno.openSync(this.path, { write: true, createNew: true, mode: 0o644 });
  }

  /** Appends a chunk (synchronously, so the caller's pull drives the pace). */
  write(chunk: Uint8Array): void {
    this.#hasher.update(chunk);
    let off = 0;
    while (off < chunk.length) off += this.#file.writeSync(chunk.subarray(off));
  }

  /**
   * Closes the file and checks the digest.
   * @throws {DigestMismatchError} when `expected` is given and differs (the file is removed)
   */
  finish(expected?: Digest, what?: string): StagedBlob {
    this.#file.close();
    const digest = this.#hasher.digest();
    if (expected !== undefined) {
      try {
        verifyDigest(expected, digest, what);
      } catch (error) {
        removeQuietly(this.path);
        throw error;
      }
    }
    return { digest, size: this.#hasher.size, path: this.path };
  }

  /** Closes and removes the temp file. */
  abort(): void {
    try {
      this.#file.close();
    } catch {
      // already closed
    }
    removeQuietly(this.path);
  }
}

/** The blob directory of a store. */
export class BlobStore {
  readonly dir: string;
  readonly tmpDir: string;

  constructor(dir: string, tmpDir: string) {
    this.dir = dir;
    this.tmpDir = tmpDir;
  }

  /** The path of a blob (whether or not it exists). */
  path(digest: Digest): string {
    return `${this.dir}/${digestHex(digest)}`;
  }

  /** Size of a stored blob, or undefined when it is absent. */
  stat(digest: Digest): number | undefined {
    try {
      return Deno.statSync(this.path(digest)).size;
    } catch {
      return undefined;
    }
  }

  has(digest: Digest): boolean {
    return this.stat(digest) !== undefined;
  }

  /**
   * Reads a whole blob and checks it against its digest (for small JSON blobs).
   * @throws {NotFoundError} when absent
   * @throws {DigestMismatchError} when the file on disk is corrupt
   */
  read(digest: Digest): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(this.path(digest));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new NotFoundError(`Blob "${digest}" is not in the store`);
      }
      throw error;
    }
    verifyDigest(digest, sha256(bytes), `stored blob "${digest}"`);
    return bytes;
  }

  /** Opens a blob for streaming. @throws {NotFoundError} */
  async open(digest: Digest): Promise<Deno.FsFile> {
    try {
      return await Deno.open(this.path(digest));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new NotFoundError(`Blob "${digest}" is not in the store`);
      }
      throw error;
    }
  }

  /** Stages bytes held in memory. */
  stageBytes(bytes: Uint8Array, expected?: Digest): StagedBlob {
    const writer = new BlobWriter(this.tmpDir);
    try {
      writer.write(bytes);
    } catch (error) {
      writer.abort();
      throw error;
    }
    return writer.finish(expected);
  }

  /** Stages a stream, checking `expected` when given. */
  async stageStream(
    stream: ReadableStream<Uint8Array>,
    expected?: Digest,
    what?: string,
  ): Promise<StagedBlob> {
    await loadNativeSha256();
    const writer = new BlobWriter(this.tmpDir);
    try {
      for await (const chunk of stream) writer.write(chunk);
    } catch (error) {
      writer.abort();
      throw error;
    }
    return writer.finish(expected, what);
  }

  /**
   * Makes a staged blob visible. If the store already has it, the staged copy
   * is dropped. Call under the store lock.
   */
  commit(staged: StagedBlob): void {
    if (this.has(staged.digest)) {
      removeQuietly(staged.path);
      return;
    }
    Deno.renameSync(staged.path, this.path(staged.digest));
  }

  /** Drops a staged blob that will not be committed. */
  discard(staged: StagedBlob): void {
    removeQuietly(staged.path);
  }

  /** Removes a blob; absent is fine. */
  remove(digest: Digest): void {
    removeQuietly(this.path(digest));
  }

  /** Every stored blob's digest. */
  list(): Digest[] {
    const out: Digest[] = [];
    for (const entry of Deno.readDirSync(this.dir)) {
      if (/^[a-f0-9]{64}$/.test(entry.name)) out.push(`sha256:${entry.name}`);
    }
    return out;
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // absent
  }
}
