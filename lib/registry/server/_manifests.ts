/**
 * `GET`, `HEAD`, `PUT` and `DELETE /v2/<name>/manifests/<reference>`.
 *
 * @module
 */
import { type Digest, sha256 } from "../../digest.ts";
import { RegistryError } from "../_errors.ts";
import type { RequestContext } from "./_context.ts";
import { contentLength, emptyResponse } from "./_http.ts";
import { inspectManifest } from "./_manifest.ts";
import { readAll, tooLarge } from "./_stream.ts";
import type { ManifestRef } from "./names.ts";
import type { Descriptor } from "./storage.ts";

function unknown(ref: ManifestRef): RegistryError {
  return new RegistryError("MANIFEST_UNKNOWN", undefined, { detail: ref.tag ?? ref.digest });
}

/** True when `accept` admits `mediaType` (no header admits anything). */
function accepts(accept: string | null, mediaType: string): boolean {
  if (accept === null || accept.trim() === "") return true;
  const types = accept.split(",").map((part) => part.split(";")[0]!.trim().toLowerCase());
  return types.some((t) =>
    t === mediaType || t === "*/*" || t === "application/*" || t === "application/json"
  );
}

/** Serves a stored manifest with its media type; by tag, only when `Accept` admits it. */
export async function getManifest(
  ctx: RequestContext,
  name: string,
  ref: ManifestRef,
): Promise<Response> {
  const digest = ref.digest ?? (await ctx.storage.resolveTag(name, ref.tag));
  const record = digest === undefined ? undefined : await ctx.storage.getManifest(name, digest);
  if (record === undefined) throw unknown(ref);
  if (ref.tag !== undefined && !accepts(ctx.req.headers.get("Accept"), record.mediaType)) {
    throw new RegistryError(
      "MANIFEST_UNKNOWN",
      `Manifest is "${record.mediaType}", not a type the client accepts`,
      {
        detail: { tag: ref.tag, mediaType: record.mediaType },
      },
    );
  }
  const headers = {
    "Content-Type": record.mediaType,
    "Content-Length": String(record.bytes.byteLength),
    "Docker-Content-Digest": record.digest,
    "ETag": `"${record.digest}"`,
  };
  const body = ctx.req.method === "HEAD" ? null : record.bytes as Uint8Array<ArrayBuffer>;
  return new Response(body, { headers });
}

/** Checks, stores and tags a pushed manifest; records its subject for the referrers API. */
export async function putManifest(
  ctx: RequestContext,
  name: string,
  ref: ManifestRef,
): Promise<Response> {
  const { storage, req, limits } = ctx;
  const length = contentLength(req);
  if (length !== undefined && length > limits.maxManifestSize) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge(limits.maxManifestSize);
  }
  const bytes = await readAll(req.body, limits.maxManifestSize);
  const refs = inspectManifest(bytes, req.headers.get("Content-Type"));
  const digest = sha256(bytes);
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw new RegistryError(
      "DIGEST_INVALID",
      `Manifest digest is "${digest}", not "${ref.digest}"`,
      {
        detail: { expected: ref.digest, actual: digest },
      },
    );
  }
  for (const blob of refs.blobs) {
    const present = (await storage.isBlobLinked(name, blob.digest)) &&
      (await storage.statBlob(blob.digest));
    if (!present) {
      throw new RegistryError(
        "MANIFEST_BLOB_UNKNOWN",
        `Blob unknown to repository: "${blob.digest}"`,
        {
          detail: { digest: blob.digest },
        },
      );
    }
  }
  for (const child of refs.manifests) {
    if ((await storage.getManifest(name, child.digest)) === undefined) {
      throw new RegistryError(
        "MANIFEST_UNKNOWN",
        `Manifest unknown to repository: "${child.digest}"`,
        {
          status: 400,
          detail: { digest: child.digest },
        },
      );
    }
  }
  await storage.putManifest(name, { digest, mediaType: refs.mediaType, bytes });
  await storage.linkBlob(name, digest);
  if (ref.tag !== undefined) await storage.setTag(name, ref.tag, digest);
  const headers: Record<string, string> = {
    "Location": `/v2/${name}/manifests/${digest}`,
    "Docker-Content-Digest": digest,
  };
  if (refs.subject !== undefined) {
    const descriptor: Descriptor = { mediaType: refs.mediaType, digest, size: bytes.byteLength };
    if (refs.artifactType !== undefined) descriptor.artifactType = refs.artifactType;
    if (refs.annotations !== undefined) descriptor.annotations = refs.annotations;
    await storage.addReferrer(name, refs.subject.digest, descriptor);
    headers["OCI-Subject"] = refs.subject.digest;
  }
  return emptyResponse(201, headers);
}

/** Deletes a tag, or a manifest with the tags pointing at it. */
export async function deleteManifest(
  ctx: RequestContext,
  name: string,
  ref: ManifestRef,
): Promise<Response> {
  const { storage } = ctx;
  if (ref.tag !== undefined) {
    if (!(await storage.deleteTag(name, ref.tag))) throw unknown(ref);
    return emptyResponse(202);
  }
  const record = await storage.getManifest(name, ref.digest);
  if (record === undefined) throw unknown(ref);
  await removeManifest(ctx, name, ref.digest, record.bytes, record.mediaType);
  return emptyResponse(202);
}

async function removeManifest(
  ctx: RequestContext,
  name: string,
  digest: Digest,
  bytes: Uint8Array,
  mediaType: string,
): Promise<void> {
  const { storage } = ctx;
  for (const tag of await storage.listTags(name)) {
    if ((await storage.resolveTag(name, tag)) === digest) await storage.deleteTag(name, tag);
  }
  try {
    const subject = inspectManifest(bytes, mediaType).subject;
    if (subject !== undefined) await storage.removeReferrer(name, subject.digest, digest);
  } catch {
    // A stored manifest always parsed once; if lib/image grew stricter, still delete it.
  }
  await storage.deleteManifest(name, digest);
  await storage.unlinkBlob(name, digest);
}
