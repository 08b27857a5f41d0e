/**
 * A distribution-spec client for one registry: the `/v2/` check, manifests
 * (with the Accept list for OCI and Docker schema 2 manifests and indexes,
 * verified against their digest), blob existence, verified resumable blob
 * downloads, uploads with cross-repository mounts, and tag lists. It knows
 * nothing of berth's store, so build and the engine can both use it.
 *
 * @module
 */
import { type Digest, isDigest, sha256, verifyDigest } from "../../digest.ts";
import { EngineError, InvalidError } from "../../errors.ts";
import { type Descriptor, MEDIA_TYPES } from "../../image/mod.ts";
import { RegistryError } from "../_errors.ts";
import { blobStream, type BlobStreamOptions } from "./blob_stream.ts";
import {
  uploadBlob,
  type UploadOptions,
  type UploadResult,
  uploadStream,
  type UploadStreamOptions,
} from "./blob_upload.ts";
import { responseError, Transport, type TransportOptions } from "./transport.ts";

/** The media types berth asks for when fetching a manifest (schema 1 is not accepted). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.OCI_INDEX,
  MEDIA_TYPES.OCI_MANIFEST,
  MEDIA_TYPES.DOCKER_MANIFEST_LIST,
  MEDIA_TYPES.DOCKER_MANIFEST,
].join(", ");

/** A manifest or index as a registry served it. */
export interface FetchedManifest {
  /** The exact bytes served. */
  bytes: Uint8Array;
  /** The Content-Type it was served with. */
  mediaType: string;
  /** Its digest, checked against the reference or `Docker-Content-Digest`. */
  digest: Digest;
}

/** The client for one registry (`docker.io`, `localhost:5000`). */
export class RegistryClient {
  readonly transport: Transport;

  /**
   * @param domain the registry as references name it
   * @param options credentials, insecure registries, mirrors, fetch
   */
  constructor(domain: string, options: TransportOptions = {}) {
    this.transport = new Transport(domain, options);
  }

  /**
   * Checks that the registry speaks the v2 API and accepts our credentials.
   * @throws {RegistryError} `UNAUTHORIZED` when the credentials are refused
   */
  async ping(): Promise<void> {
    const res = await this.transport.request("/v2/", { scopes: [] });
    if (!res.ok) {
      throw await responseError(
        res,
        `Registry "${this.transport.endpoints.domain}" refused its API check`,
      );
    }
    await res.body?.cancel();
  }

  /**
   * Fetches a manifest or index by tag or digest.
   * @param name shown in errors (`busybox:nope`)
   * @throws {RegistryError} `MANIFEST_UNKNOWN` as `Manifest for NAME not found: manifest unknown: ...`
   * @throws {DigestMismatchError} when the bytes do not hash to the digest asked for or announced
   */
  async getManifest(repo: string, reference: string, name = reference): Promise<FetchedManifest> {
    const res = await this.transport.request(`/v2/${repo}/manifests/${reference}`, {
      headers: { Accept: MANIFEST_ACCEPT },
      scopes: [`repository:${repo}:pull`],
      mirrors: true,
    });
    if (res.status === 404) throw await responseError(res, `Manifest for ${name} not found`);
    if (!res.ok) throw await responseError(res, `Cannot fetch manifest for ${name}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = sha256(bytes);
    const announced = res.headers.get("docker-content-digest");
    const expected = isDigest(reference) ? reference : isDigest(announced) ? announced : undefined;
    if (expected !== undefined) verifyDigest(expected, digest, `manifest for ${name}`);
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    return { bytes, mediaType, digest };
  }

  /**
   * Asks for a manifest's digest, type and size without its body (`HEAD`).
   * @returns undefined when the registry does not have it
   */
  async headManifest(
    repo: string,
    reference: string,
  ): Promise<{ digest: Digest; mediaType: string; size: number } | undefined> {
    const res = await this.transport.request(`/v2/${repo}/manifests/${reference}`, {
      method: "HEAD",
      headers: { Accept: MANIFEST_ACCEPT },
      scopes: [`repository:${repo}:pull`],
      mirrors: true,
    });
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    const digest = res.headers.get("docker-content-digest");
    if (!res.ok || !isDigest(digest)) {
      throw new EngineError(`Cannot check manifest ${repo}:${reference}: ${res.status}`);
    }
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    return { digest, mediaType, size: Number(res.headers.get("content-length") ?? 0) };
  }

  /**
   * Stores a manifest under a tag or its digest.
   * @returns the manifest's digest
   * @throws {RegistryError} with the registry's code (`MANIFEST_BLOB_UNKNOWN`, ...)
   */
  async putManifest(
    repo: string,
    reference: string,
    bytes: Uint8Array<ArrayBuffer>,
    mediaType: string,
  ): Promise<Digest> {
    const res = await this.transport.request(`/v2/${repo}/manifests/${reference}`, {
      method: "PUT",
      headers: { "Content-Type": mediaType },
      body: bytes,
      scopes: [`repository:${repo}:pull,push`],
    });
    if (res.status !== 201 && res.status !== 200) {
      throw await responseError(res, `Cannot push manifest to ${repo}:${reference}`);
    }
    await res.body?.cancel();
    const digest = sha256(bytes);
    const announced = res.headers.get("docker-content-digest");
    if (isDigest(announced)) verifyDigest(digest, announced, `pushed manifest`);
    return digest;
  }

  /** True when the repository has the blob (`HEAD /v2/<repo>/blobs/<digest>`). */
  async hasBlob(repo: string, digest: Digest, push = false): Promise<boolean> {
    const res = await this.transport.request(`/v2/${repo}/blobs/${digest}`, {
      method: "HEAD",
      scopes: [`repository:${repo}:${push ? "pull,push" : "pull"}`],
    });
    await res.body?.cancel();
    if (res.ok) return true;
    if (res.status === 404) return false;
    if (res.status === 401) {
      throw new RegistryError(
        "UNAUTHORIZED",
        `Cannot check blob "${digest}" in ${repo}: unauthorized`,
        { status: 401 },
      );
    }
    throw new EngineError(`Cannot check blob "${digest}" in ${repo}: ${res.status}`);
  }

  /** Streams a blob, verified as it goes and resumed with `Range` after a break. */
  blobStream(repo: string, blob: Descriptor, options?: BlobStreamOptions) {
    return blobStream(this.transport, repo, blob, options);
  }

  /** Fetches a small blob (a config) whole and verified. */
  async getBlob(repo: string, blob: Descriptor): Promise<Uint8Array> {
    if (blob.size > 64 * 1024 * 1024) {
      throw new InvalidError(`Blob "${blob.digest}" is too large to read whole`);
    }
    return new Uint8Array(await new Response(this.blobStream(repo, blob)).arrayBuffer());
  }

  /** Uploads a blob (mounting it from `options.mountFrom` when it can). */
  uploadBlob(
    repo: string,
    blob: { digest: Digest; size: number },
    open: () => Promise<ReadableStream<Uint8Array>>,
    options?: UploadOptions,
  ): Promise<UploadResult> {
    return uploadBlob(this.transport, repo, blob, open, options);
  }

  /** Uploads bytes whose digest is computed while they are sent (see {@linkcode uploadStream}). */
  uploadStream(
    repo: string,
    source: ReadableStream<Uint8Array>,
    options?: UploadStreamOptions,
  ): Promise<{ digest: Digest; size: number }> {
    return uploadStream(this.transport, repo, source, options);
  }

  /**
   * Lists a repository's tags, following `Link` pagination.
   * @throws {RegistryError} `NAME_UNKNOWN` for a repository the registry does not have
   */
  async listTags(repo: string): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `/v2/${repo}/tags/list`;
    while (next !== undefined) {
      const res: Response = await this.transport.request(next, {
        scopes: [`repository:${repo}:pull`],
        mirrors: true,
      });
      if (!res.ok) throw await responseError(res, `Cannot list tags of ${repo}`);
      const body = await res.json() as { tags?: unknown };
      if (Array.isArray(body.tags)) tags.push(...body.tags.filter((t) => typeof t === "string"));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get("link") ?? "")?.[1];
      next = link === undefined ? undefined : new URL(link, this.transport.endpoints.origin).href;
    }
    return tags;
  }
}
