/**
 * Listings: `/v2/<name>/tags/list`, `/v2/_catalog` (both with `n`/`last`
 * and a `Link` to the next page) and `/v2/<name>/referrers/<digest>`.
 *
 * @module
 */
import type { Digest } from "../../digest.ts";
import { MEDIA_TYPES } from "../../image/mod.ts";
import { RegistryError } from "../_errors.ts";
import type { RequestContext } from "./_context.ts";
import { jsonResponse, paginate } from "./_http.ts";

/** Catalog pages hold at most this many names unless `n` says otherwise. */
const CATALOG_PAGE = 1000;

/** `GET /v2/<name>/tags/list`. */
export async function listTags(ctx: RequestContext, name: string): Promise<Response> {
  if (!(await ctx.storage.hasRepository(name))) {
    throw new RegistryError("NAME_UNKNOWN", `Repository "${name}" is not known`, {
      detail: { name },
    });
  }
  const { page, link } = paginate(await ctx.storage.listTags(name), ctx.url);
  return jsonResponse({ name, tags: page }, link === undefined ? {} : { Link: link });
}

/** `GET /v2/_catalog`. */
export async function listCatalog(ctx: RequestContext): Promise<Response> {
  const { page, link } = paginate(await ctx.storage.listRepositories(), ctx.url, CATALOG_PAGE);
  return jsonResponse({ repositories: page }, link === undefined ? {} : { Link: link });
}

/** `GET /v2/<name>/referrers/<digest>[?artifactType=]`: an OCI index of the manifests naming it as subject. */
export async function listReferrers(
  ctx: RequestContext,
  name: string,
  subject: Digest,
): Promise<Response> {
  let manifests = await ctx.storage.listReferrers(name, subject);
  const artifactType = ctx.url.searchParams.get("artifactType");
  const headers: Record<string, string> = { "Content-Type": MEDIA_TYPES.OCI_INDEX };
  if (artifactType !== null) {
    manifests = manifests.filter((d) => d.artifactType === artifactType);
    headers["OCI-Filters-Applied"] = "artifactType";
  }
  return jsonResponse({ schemaVersion: 2, mediaType: MEDIA_TYPES.OCI_INDEX, manifests }, headers);
}
