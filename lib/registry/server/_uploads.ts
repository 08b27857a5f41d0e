/**
 * Blob uploads: `POST /v2/<name>/blobs/uploads/` (session, monolithic with
 * `?digest=`, or cross-repository `?mount=&from=`), then `PATCH`, `PUT`, `GET`
 * and `DELETE` on `/v2/<name>/blobs/uploads/<id>`.
 *
 * @module
 */
import type { Digest } from "../../digest.ts";
import { RegistryError } from "../_errors.ts";
import { checkRoom, type RequestContext } from "./_context.ts";
import {
  contentLength,
  emptyResponse,
  errorResponse,
  parseContentRange,
  uploadRange,
} from "./_http.ts";
import { validateDigest, validateName } from "./names.ts";

function uploadHeaders(name: string, id: string, size: number): HeadersInit {
  return {
    "Location": `/v2/${name}/blobs/uploads/${id}`,
    "Docker-Upload-UUID": id,
    "Range": uploadRange(size),
  };
}

function created(name: string, digest: Digest): Response {
  return emptyResponse(201, {
    "Location": `/v2/${name}/blobs/${digest}`,
    "Docker-Content-Digest": digest,
  });
}

async function discard(req: Request): Promise<void> {
  await req.body?.cancel().catch(() => {});
}

/** `POST /v2/<name>/blobs/uploads/`: mount, monolithic upload, or a new session. */
export async function startUpload(ctx: RequestContext, name: string): Promise<Response> {
  const { storage, url, req } = ctx;
  const mount = url.searchParams.get("mount");
  if (mount !== null) {
    const digest = validateDigest(mount);
    const from = url.searchParams.get("from");
    const source = from === null ? undefined : validateName(from);
    const visible = source === undefined || (await storage.isBlobLinked(source, digest));
    if (visible && (await storage.statBlob(digest)) !== undefined) {
      await discard(req);
      await storage.linkBlob(name, digest);
      return created(name, digest);
    }
  }
  const digestParam = url.searchParams.get("digest");
  if (digestParam !== null) {
    const digest = validateDigest(digestParam);
    await checkRoom(ctx, contentLength(req));
    await storage.putBlob(req.body ?? new Blob([]).stream(), digest, {
      maxSize: ctx.limits.maxBlobSize,
    });
    await storage.linkBlob(name, digest);
    return created(name, digest);
  }
  await discard(req);
  const upload = await storage.createUpload(name);
  return emptyResponse(202, uploadHeaders(name, upload.id, 0));
}

/** `PATCH`: appends a chunk that must start where the upload is (else 416). */
export async function patchUpload(
  ctx: RequestContext,
  name: string,
  id: string,
): Promise<Response> {
  const { storage, req } = ctx;
  const upload = await storage.getUpload(name, id);
  if (upload === undefined) {
    await discard(req);
    throw new RegistryError("BLOB_UPLOAD_UNKNOWN", undefined, { detail: { uuid: id } });
  }
  try {
    const range = parseContentRange(req.headers.get("Content-Range"));
    const length = contentLength(req);
    if (range !== undefined && length !== undefined && length !== range.end - range.start + 1) {
      throw new RegistryError(
        "BLOB_UPLOAD_INVALID",
        "Content-Length does not match Content-Range",
        {
          status: 416,
        },
      );
    }
    if (range !== undefined && range.start !== upload.size) {
      throw new RegistryError(
        "BLOB_UPLOAD_INVALID",
        `Chunk starts at ${range.start}, upload is at ${upload.size}`,
        {
          status: 416,
        },
      );
    }
    await checkRoom(ctx, length ?? (range && range.end - range.start + 1), upload.size);
    const info = await storage.appendUpload(name, id, req.body, {
      ...(range === undefined ? {} : { offset: range.start, length: range.end - range.start + 1 }),
      maxSize: ctx.limits.maxBlobSize,
    });
    return emptyResponse(202, uploadHeaders(name, id, info.size));
  } catch (error) {
    if (error instanceof RegistryError && error.status === 416) {
      await discard(req);
      const now = await storage.getUpload(name, id);
      return errorResponse(error, uploadHeaders(name, id, now?.size ?? upload.size));
    }
    throw error;
  }
}

/** `PUT ?digest=`: appends an optional last chunk, verifies, stores the blob. */
export async function finishUpload(
  ctx: RequestContext,
  name: string,
  id: string,
): Promise<Response> {
  const { storage, req, url } = ctx;
  const digestParam = url.searchParams.get("digest");
  if (digestParam === null) {
    await discard(req);
    throw new RegistryError("DIGEST_INVALID", "Missing digest parameter");
  }
  const digest = validateDigest(digestParam);
  const upload = await storage.getUpload(name, id);
  if (upload === undefined) {
    await discard(req);
    throw new RegistryError("BLOB_UPLOAD_UNKNOWN", undefined, { detail: { uuid: id } });
  }
  const length = contentLength(req);
  if (req.body !== null && length !== 0) {
    const range = parseContentRange(req.headers.get("Content-Range"));
    await checkRoom(ctx, length, upload.size);
    await storage.appendUpload(name, id, req.body, {
      ...(range === undefined ? {} : { offset: range.start, length: range.end - range.start + 1 }),
      maxSize: ctx.limits.maxBlobSize,
    });
  }
  const blob = await storage.finishUpload(name, id, digest);
  await storage.linkBlob(name, blob.digest);
  return created(name, blob.digest);
}

/** `GET`: the upload's progress (204 + Range). */
export async function uploadStatus(
  ctx: RequestContext,
  name: string,
  id: string,
): Promise<Response> {
  const upload = await ctx.storage.getUpload(name, id);
  if (upload === undefined) {
    throw new RegistryError("BLOB_UPLOAD_UNKNOWN", undefined, { detail: { uuid: id } });
  }
  return emptyResponse(204, uploadHeaders(name, id, upload.size));
}

/** `DELETE`: cancels the upload. */
export async function cancelUpload(
  ctx: RequestContext,
  name: string,
  id: string,
): Promise<Response> {
  if (!(await ctx.storage.cancelUpload(name, id))) {
    throw new RegistryError("BLOB_UPLOAD_UNKNOWN", undefined, { detail: { uuid: id } });
  }
  return emptyResponse(204);
}
