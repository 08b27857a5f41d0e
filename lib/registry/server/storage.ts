/**
 * The storage a registry server runs on, as an interface: content-addressed
 * blobs shared by every repository, per-repository links (so a blob pushed to
 * one repository is not visible in another until mounted or pushed there),
 * manifests, tags, a referrers index and upload sessions. The filesystem
 * implementation is {@linkcode FsStorage}; an object store can implement the
 * same operations (each is a put, get, list or delete of a key).
 *
 * @module
 */
import type { Digest } from "../../digest.ts";

/** A stored blob. */
export interface BlobInfo {
  /** The blob's verified digest. */
  digest: Digest;
  /** Its size in bytes. */
  size: number;
}

/** An inclusive byte range, as HTTP `Range` gives it. */
export interface ByteRange {
  /** First byte's offset. */
  start: number;
  /** Last byte's offset (inclusive). */
  end: number;
}

/** A stored manifest with the media type it was pushed as. */
export interface ManifestRecord {
  /** sha256 of `bytes`. */
  digest: Digest;
  /** The media type it was pushed as. */
  mediaType: string;
  /** The manifest exactly as pushed. */
  bytes: Uint8Array;
}

/** An OCI content descriptor, as listed in an index (used for referrers). */
export interface Descriptor {
  /** The manifest's media type. */
  mediaType: string;
  /** The manifest's digest. */
  digest: Digest;
  /** The manifest's size in bytes. */
  size: number;
  /** `artifactType`, else the config's media type. */
  artifactType?: string;
  /** The manifest's annotations. */
  annotations?: Record<string, string>;
}

/** An upload session. */
export interface UploadInfo {
  /** The session's ID (a UUID). */
  id: string;
  /** The repository it uploads to. */
  repo: string;
  /** Bytes received so far. */
  size: number;
  /** When the session began. */
  startedAt: Date;
}

/** Limits for a streamed write. */
export interface WriteOptions {
  /**
   * Refuse the stream (RegistryError SIZE_INVALID, 413) once the blob would
   * grow past this many bytes. @default Infinity
   */
  maxSize?: number;
}

/** Options for {@linkcode RegistryStorage.appendUpload}. */
export interface AppendOptions extends WriteOptions {
  /** The offset the chunk starts at; it must equal the upload's size (else 416). */
  offset?: number;
  /** The chunk's announced length; a different count is BLOB_UPLOAD_INVALID. */
  length?: number;
}

/**
 * Every storage operation the registry server needs. Repository names,
 * tags, digests and upload IDs reaching it are already validated.
 * Writes become visible atomically and only after they are verified.
 */
export interface RegistryStorage {
  /** Size of a blob, or undefined when it is not stored. */
  statBlob(digest: Digest): Promise<BlobInfo | undefined>;
  /**
   * Streams a blob, or part of it.
   * @throws {RegistryError} BLOB_UNKNOWN when it is not stored
   */
  readBlob(digest: Digest, range?: ByteRange): Promise<ReadableStream<Uint8Array>>;
  /**
   * Stores a stream as a blob after checking it hashes to `expected`.
   * @throws {RegistryError} DIGEST_INVALID on a mismatch (nothing is stored), SIZE_INVALID past `maxSize`
   */
  putBlob(
    stream: ReadableStream<Uint8Array>,
    expected: Digest,
    options?: WriteOptions,
  ): Promise<BlobInfo>;
  /** Removes a blob's data (not the links to it). Returns false when it was absent. */
  deleteBlob(digest: Digest): Promise<boolean>;
  /** Every stored blob. */
  listBlobs(): Promise<Digest[]>;
  /** Bytes free for new blobs, or undefined when unknown. */
  freeSpace(): Promise<number | undefined>;

  /** Makes a stored blob visible in `repo`. */
  linkBlob(repo: string, digest: Digest): Promise<void>;
  /** Hides a blob from `repo`. Returns false when it was not linked. */
  unlinkBlob(repo: string, digest: Digest): Promise<boolean>;
  /** True when the blob is linked into `repo` (its data may still be gone). */
  isBlobLinked(repo: string, digest: Digest): Promise<boolean>;
  /** The blobs linked into `repo`. */
  listBlobLinks(repo: string): Promise<Digest[]>;

  /** Stores a manifest in `repo` (its bytes go to the blob store too). */
  putManifest(repo: string, record: ManifestRecord): Promise<void>;
  /** A manifest of `repo`, or undefined. */
  getManifest(repo: string, digest: Digest): Promise<ManifestRecord | undefined>;
  /** Removes a manifest from `repo` (not its blob). Returns false when absent. */
  deleteManifest(repo: string, digest: Digest): Promise<boolean>;
  /** The manifests of `repo`. */
  listManifests(repo: string): Promise<Digest[]>;

  /** Points `tag` of `repo` at a manifest. */
  setTag(repo: string, tag: string, digest: Digest): Promise<void>;
  /** The manifest a tag points at, or undefined. */
  resolveTag(repo: string, tag: string): Promise<Digest | undefined>;
  /** Removes a tag. Returns false when absent. */
  deleteTag(repo: string, tag: string): Promise<boolean>;
  /** The tags of `repo`, sorted. */
  listTags(repo: string): Promise<string[]>;

  /** Records that the manifest `descriptor` names `subject` as its subject. */
  addReferrer(repo: string, subject: Digest, descriptor: Descriptor): Promise<void>;
  /** Forgets a referrer. */
  removeReferrer(repo: string, subject: Digest, digest: Digest): Promise<void>;
  /** The manifests whose subject is `subject`. */
  listReferrers(repo: string, subject: Digest): Promise<Descriptor[]>;

  /** True when `repo` has any link, manifest or tag. */
  hasRepository(repo: string): Promise<boolean>;
  /** Every repository, sorted. */
  listRepositories(): Promise<string[]>;
  /**
   * Forgets `repo` when it holds no link, manifest, tag or referrer (what gc
   * or deletes left of it). Returns false when it is not empty or not there.
   */
  removeEmptyRepository(repo: string): Promise<boolean>;

  /** Starts an upload session. */
  createUpload(repo: string): Promise<UploadInfo>;
  /** An upload session of `repo`, or undefined. */
  getUpload(repo: string, id: string): Promise<UploadInfo | undefined>;
  /**
   * Appends a chunk to an upload. A failed or cut stream leaves the upload as it was.
   * @throws {RegistryError} BLOB_UPLOAD_UNKNOWN, BLOB_UPLOAD_INVALID (416 when `offset` is not the upload's size)
   */
  appendUpload(
    repo: string,
    id: string,
    stream: ReadableStream<Uint8Array> | null,
    options?: AppendOptions,
  ): Promise<UploadInfo>;
  /**
   * Ends an upload: checks it hashes to `expected`, then stores it as a blob.
   * The session is gone afterwards, whatever the outcome.
   * @throws {RegistryError} BLOB_UPLOAD_UNKNOWN, DIGEST_INVALID (nothing is stored)
   */
  finishUpload(repo: string, id: string, expected: Digest): Promise<BlobInfo>;
  /** Cancels an upload. Returns false when it did not exist. */
  cancelUpload(repo: string, id: string): Promise<boolean>;
  /**
   * Cancels every upload not written to since `before` (and not in use by
   * this process); returns their IDs. With `dryRun`, only lists them.
   */
  expireUploads(before: Date, options?: { dryRun?: boolean }): Promise<string[]>;
}
