/**
 * {@linkcode RegistryStorage} in memory, for tests and throwaway registries.
 *
 * @module
 */
// The interface is async for the sake of disk and network stores; maps need no await.
// deno-lint-ignore-file require-await
import { type Digest, Hasher, sha256 } from "../../digest.ts";
import { RegistryError } from "../_errors.ts";
import { limitedChunks, readAll } from "./_stream.ts";
import type {
  AppendOptions,
  BlobInfo,
  ByteRange,
  Descriptor,
  ManifestRecord,
  RegistryStorage,
  UploadInfo,
  WriteOptions,
} from "./storage.ts";

interface Repo {
  links: Set<Digest>;
  manifests: Map<Digest, string>;
  tags: Map<string, Digest>;
  referrers: Map<Digest, Map<Digest, Descriptor>>;
}

interface Upload extends UploadInfo {
  chunks: Uint8Array[];
  touched: Date;
  /** A chunk is streaming in (one at a time, as on disk). */
  busy?: boolean;
}

/** A registry's storage held in maps. */
export class MemoryStorage implements RegistryStorage {
  #blobs = new Map<Digest, Uint8Array>();
  #repos = new Map<string, Repo>();
  #uploads = new Map<string, Upload>();

  #repo(name: string, create = false): Repo | undefined {
    let repo = this.#repos.get(name);
    if (repo === undefined && create) {
      repo = { links: new Set(), manifests: new Map(), tags: new Map(), referrers: new Map() };
      this.#repos.set(name, repo);
    }
    return repo;
  }

  statBlob(digest: Digest): Promise<BlobInfo | undefined> {
    const blob = this.#blobs.get(digest);
    return Promise.resolve(blob === undefined ? undefined : { digest, size: blob.byteLength });
  }

  readBlob(digest: Digest, range?: ByteRange): Promise<ReadableStream<Uint8Array>> {
    const blob = this.#blobs.get(digest);
    if (blob === undefined) {
      return Promise.reject(new RegistryError("BLOB_UNKNOWN", undefined, { detail: { digest } }));
    }
    const part = range === undefined ? blob : blob.subarray(range.start, range.end + 1);
    return Promise.resolve(new Blob([part as Uint8Array<ArrayBuffer>]).stream());
  }

  async putBlob(
    stream: ReadableStream<Uint8Array>,
    expected: Digest,
    options: WriteOptions = {},
  ): Promise<BlobInfo> {
    const bytes = await readAll(stream, options.maxSize);
    return this.#store(bytes, sha256(bytes), expected);
  }

  #store(bytes: Uint8Array, actual: Digest, expected: Digest): BlobInfo {
    if (actual !== expected) {
      throw new RegistryError(
        "DIGEST_INVALID",
        `Digest mismatch: expected "${expected}", got "${actual}"`,
        {
          detail: { expected, actual },
        },
      );
    }
    this.#blobs.set(actual, bytes);
    return { digest: actual, size: bytes.byteLength };
  }

  deleteBlob(digest: Digest): Promise<boolean> {
    return Promise.resolve(this.#blobs.delete(digest));
  }

  listBlobs(): Promise<Digest[]> {
    return Promise.resolve([...this.#blobs.keys()].sort());
  }

  freeSpace(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  async linkBlob(repo: string, digest: Digest): Promise<void> {
    this.#repo(repo, true)!.links.add(digest);
  }

  async unlinkBlob(repo: string, digest: Digest): Promise<boolean> {
    return this.#repo(repo)?.links.delete(digest) ?? false;
  }

  async isBlobLinked(repo: string, digest: Digest): Promise<boolean> {
    return this.#repo(repo)?.links.has(digest) ?? false;
  }

  async listBlobLinks(repo: string): Promise<Digest[]> {
    return [...(this.#repo(repo)?.links ?? [])].sort();
  }

  async putManifest(repo: string, record: ManifestRecord): Promise<void> {
    this.#store(record.bytes.slice(), sha256(record.bytes), record.digest);
    this.#repo(repo, true)!.manifests.set(record.digest, record.mediaType);
  }

  async getManifest(repo: string, digest: Digest): Promise<ManifestRecord | undefined> {
    const mediaType = this.#repo(repo)?.manifests.get(digest);
    const bytes = this.#blobs.get(digest);
    return mediaType === undefined || bytes === undefined
      ? undefined
      : { digest, mediaType, bytes };
  }

  async deleteManifest(repo: string, digest: Digest): Promise<boolean> {
    return this.#repo(repo)?.manifests.delete(digest) ?? false;
  }

  async listManifests(repo: string): Promise<Digest[]> {
    return [...(this.#repo(repo)?.manifests.keys() ?? [])].sort();
  }

  async setTag(repo: string, tag: string, digest: Digest): Promise<void> {
    this.#repo(repo, true)!.tags.set(tag, digest);
  }

  async resolveTag(repo: string, tag: string): Promise<Digest | undefined> {
    return this.#repo(repo)?.tags.get(tag);
  }

  async deleteTag(repo: string, tag: string): Promise<boolean> {
    return this.#repo(repo)?.tags.delete(tag) ?? false;
  }

  async listTags(repo: string): Promise<string[]> {
    return [...(this.#repo(repo)?.tags.keys() ?? [])].sort();
  }

  async addReferrer(repo: string, subject: Digest, descriptor: Descriptor): Promise<void> {
    const referrers = this.#repo(repo, true)!.referrers;
    if (!referrers.has(subject)) referrers.set(subject, new Map());
    referrers.get(subject)!.set(descriptor.digest, structuredClone(descriptor));
  }

  async removeReferrer(repo: string, subject: Digest, digest: Digest): Promise<void> {
    this.#repo(repo)?.referrers.get(subject)?.delete(digest);
  }

  async listReferrers(repo: string, subject: Digest): Promise<Descriptor[]> {
    const found = this.#repo(repo)?.referrers.get(subject);
    return [...(found?.values() ?? [])].sort((a, b) => a.digest < b.digest ? -1 : 1);
  }

  async hasRepository(repo: string): Promise<boolean> {
    return this.#repos.has(repo);
  }

  async listRepositories(): Promise<string[]> {
    return [...this.#repos.keys()].sort();
  }

  async removeEmptyRepository(repo: string): Promise<boolean> {
    const r = this.#repos.get(repo);
    if (r === undefined || r.links.size > 0 || r.manifests.size > 0 || r.tags.size > 0) {
      return false;
    }
    if ([...r.referrers.values()].some((found) => found.size > 0)) return false;
    return this.#repos.delete(repo);
  }

  async createUpload(repo: string): Promise<UploadInfo> {
    const upload: Upload = {
      id: crypto.randomUUID(),
      repo,
      size: 0,
      startedAt: new Date(),
      chunks: [],
      touched: new Date(),
    };
    this.#uploads.set(upload.id, upload);
    return this.#info(upload);
  }

  #info(u: Upload): UploadInfo {
    return { id: u.id, repo: u.repo, size: u.size, startedAt: u.startedAt };
  }

  #require(repo: string, id: string): Upload {
    const upload = this.#uploads.get(id);
    if (upload === undefined || upload.repo !== repo) {
      throw new RegistryError("BLOB_UPLOAD_UNKNOWN", undefined, { detail: { uuid: id } });
    }
    return upload;
  }

  async getUpload(repo: string, id: string): Promise<UploadInfo | undefined> {
    const upload = this.#uploads.get(id);
    return upload?.repo === repo ? this.#info(upload) : undefined;
  }

  async appendUpload(
    repo: string,
    id: string,
    stream: ReadableStream<Uint8Array> | null,
    options: AppendOptions = {},
  ): Promise<UploadInfo> {
    const upload = this.#require(repo, id);
    if (upload.busy) {
      await stream?.cancel().catch(() => {});
      throw new RegistryError(
        "BLOB_UPLOAD_INVALID",
        "Another chunk of this upload is in progress",
        { status: 416 },
      );
    }
    if (options.offset !== undefined && options.offset !== upload.size) {
      await stream?.cancel().catch(() => {});
      throw new RegistryError(
        "BLOB_UPLOAD_INVALID",
        `Chunk starts at ${options.offset}, upload is at ${upload.size}`,
        {
          status: 416,
          detail: { offset: upload.size },
        },
      );
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    upload.busy = true;
    try {
      for await (const chunk of limitedChunks(stream, options.maxSize, upload.size)) {
        chunks.push(chunk.slice());
        size += chunk.byteLength;
      }
    } finally {
      upload.busy = false;
    }
    if (options.length !== undefined && size !== options.length) {
      throw new RegistryError(
        "BLOB_UPLOAD_INVALID",
        `Chunk has ${size} bytes, ${options.length} announced`,
      );
    }
    upload.chunks.push(...chunks);
    upload.size += size;
    upload.touched = new Date();
    return this.#info(upload);
  }

  async finishUpload(repo: string, id: string, expected: Digest): Promise<BlobInfo> {
    const upload = this.#require(repo, id);
    this.#uploads.delete(id);
    const hasher = new Hasher();
    for (const chunk of upload.chunks) hasher.update(chunk);
    const bytes = new Uint8Array(
      await new Blob(upload.chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer(),
    );
    return this.#store(bytes, hasher.digest(), expected);
  }

  async cancelUpload(repo: string, id: string): Promise<boolean> {
    return (await this.getUpload(repo, id)) !== undefined && this.#uploads.delete(id);
  }

  async expireUploads(before: Date, options: { dryRun?: boolean } = {}): Promise<string[]> {
    const gone = [...this.#uploads.values()].filter((u) => u.touched < before).map((u) => u.id);
    if (!options.dryRun) { for (const id of gone) this.#uploads.delete(id); }
    return gone;
  }
}
