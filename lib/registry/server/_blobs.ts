/**
 * `GET`, `HEAD` and `DELETE /v2/<name>/blobs/<digest>`.
 *
 * @module
 */
import type { Digest } from "../../digest.ts";
import { RegistryError } from "../_errors.ts";
import type { RequestContext } from "./_context.ts";
import { emptyResponse, errorResponse, parseRange } from "./_http.ts";

async function requireBlob(ctx: RequestContext, name: string, digest: Digest): Promise<number> {
  const info = (await ctx.storage.isBlobLinked(name, digest))
    ? await ctx.storage.statBlob(digest)
    : undefined;
  if (info === undefined) {
    throw new RegistryError("BLOB_UNKNOWN", undefined, { detail: { digest } });
  }
  return info.size;
}

/** Serves a blob (or a `Range` of it, 206) to GET and HEAD. */
export async function getBlob(
  ctx: RequestContext,
  name: string,
  digest: Digest,
): Promise<Response> {
  const size = await requireBlob(ctx, name, digest);
  const headers = new Headers({
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest,
    "Accept-Ranges": "bytes",
    "ETag": `"${digest}"`,
    "Cache-Control": "max-age=31536000",
  });
  let range;
  try {
    range = parseRange(ctx.req.headers.get("Range"), size);
  } catch {
    headers.set("Content-Range", `bytes */${size}`);
    return errorResponse(
      new RegistryError("BLOB_UNKNOWN", "Requested range not satisfiable", { status: 416 }),
      headers,
    );
  }
  const status = range === undefined ? 200 : 206;
  const length = range === undefined ? size : range.end - range.start + 1;
  headers.set("Content-Length", String(length));
  if (range !== undefined) {
    headers.set("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
  }
  if (ctx.req.method === "HEAD") return new Response(null, { status, headers });
  return new Response(await ctx.storage.readBlob(digest, range), { status, headers });
}

/** Removes a blob from a repository (its data goes at the next gc). */
export async function deleteBlob(
  ctx: RequestContext,
  name: string,
  digest: Digest,
): Promise<Response> {
  if (!(await ctx.storage.unlinkBlob(name, digest))) {
    throw new RegistryError("BLOB_UNKNOWN", undefined, { detail: { digest } });
  }
  return emptyResponse(202, { "Docker-Content-Digest": digest });
}
