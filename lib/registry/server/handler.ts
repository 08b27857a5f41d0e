/**
 * The registry's request handler: auth, routing of the distribution-spec's
 * endpoints, and the mapping of failures to the spec's error bodies.
 *
 * @module
 */
import { RegistryError } from "../_errors.ts";
import { deleteBlob, getBlob } from "./_blobs.ts";
import type { Limits, RequestContext } from "./_context.ts";
import { API_VERSION_HEADER, errorResponse, jsonResponse } from "./_http.ts";
import { listCatalog, listReferrers, listTags } from "./_listing.ts";
import { deleteManifest, getManifest, putManifest } from "./_manifests.ts";
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from "./_uploads.ts";
import type { Authenticator } from "./htpasswd.ts";
import {
  parseManifestLookup,
  parseManifestReference,
  validateDigest,
  validateName,
} from "./names.ts";
import type { RegistryStorage } from "./storage.ts";

/** One handled request, for logs. */
export interface RequestLog {
  /** The HTTP method. */
  method: string;
  /** The URL path. */
  path: string;
  /** The response status. */
  status: number;
  /** Time to the response head, in milliseconds. */
  durationMs: number;
  /** The user authenticated by basic auth. */
  user?: string;
  /** An unexpected failure (answered with 500), or a broken request body. */
  error?: unknown;
}

/** Options for {@linkcode createRegistryHandler}. */
export interface RegistryHandlerOptions {
  /** Where blobs, manifests and tags live. */
  storage: RegistryStorage;
  /** Checks credentials; none means anonymous access. */
  authenticate?: Authenticator;
  /** Largest blob accepted, in bytes. @default Infinity */
  maxBlobSize?: number;
  /** Largest manifest accepted, in bytes. @default 4194304 */
  maxManifestSize?: number;
  /** Bytes to keep free on the storage's disk; larger uploads are refused. @default 0 */
  reserveSpace?: number;
  /**
   * Blob bodies streamed in at once; more get 429 TOOMANYREQUESTS with
   * `Retry-After`. @default Infinity
   */
  maxConcurrentUploads?: number;
  /** Receives every handled request. */
  log?: (entry: RequestLog) => void;
}

type Route = (ctx: RequestContext, m: RegExpExecArray) => Promise<Response>;

const ROUTES: [string, RegExp, Route][] = [
  ["GET", /^\/v2\/?$/, () => Promise.resolve(jsonResponse({}))],
  ["GET", /^\/v2\/_catalog$/, (ctx) => listCatalog(ctx)],
  ["GET", /^\/v2\/(.+)\/tags\/list$/, (ctx, m) => listTags(ctx, validateName(m[1]!))],
  [
    "GET",
    /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    (c, m) => getManifest(c, validateName(m[1]!), parseManifestLookup(m[2]!)),
  ],
  [
    "PUT",
    /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    (c, m) => putManifest(c, validateName(m[1]!), parseManifestReference(m[2]!)),
  ],
  [
    "DELETE",
    /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    (c, m) => deleteManifest(c, validateName(m[1]!), parseManifestLookup(m[2]!)),
  ],
  ["POST", /^\/v2\/(.+)\/blobs\/uploads\/?$/, (ctx, m) => startUpload(ctx, validateName(m[1]!))],
  [
    "GET",
    /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    (ctx, m) => uploadStatus(ctx, validateName(m[1]!), m[2]!),
  ],
  [
    "PATCH",
    /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    (ctx, m) => patchUpload(ctx, validateName(m[1]!), m[2]!),
  ],
  [
    "PUT",
    /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    (ctx, m) => finishUpload(ctx, validateName(m[1]!), m[2]!),
  ],
  [
    "DELETE",
    /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    (ctx, m) => cancelUpload(ctx, validateName(m[1]!), m[2]!),
  ],
  [
    "GET",
    /^\/v2\/(.+)\/blobs\/([^/]+)$/,
    (ctx, m) => getBlob(ctx, validateName(m[1]!), validateDigest(m[2]!)),
  ],
  [
    "DELETE",
    /^\/v2\/(.+)\/blobs\/([^/]+)$/,
    (ctx, m) => deleteBlob(ctx, validateName(m[1]!), validateDigest(m[2]!)),
  ],
  [
    "GET",
    /^\/v2\/(.+)\/referrers\/([^/]+)$/,
    (c, m) => listReferrers(c, validateName(m[1]!), validateDigest(m[2]!)),
  ],
];

function route(
  method: string,
  path: string,
): { fn: Route; m: RegExpExecArray } | "method" | undefined {
  const wanted = method === "HEAD" ? "GET" : method;
  let pathMatched = false;
  for (const [routeMethod, re, fn] of ROUTES) {
    const m = re.exec(path);
    if (m === null) continue;
    if (routeMethod === wanted) return { fn, m };
    pathMatched = true;
  }
  return pathMatched ? "method" : undefined;
}

/** True for the requests that stream a blob body in. */
function carriesBlob(req: Request, url: URL): boolean {
  const upload = url.pathname.includes("/blobs/uploads/");
  return req.method === "PATCH" || (req.method === "PUT" && upload) ||
    (req.method === "POST" && upload && url.searchParams.has("digest"));
}

/**
 * Makes the `fetch`-style handler of a registry.
 * @returns a function answering one request; it never throws
 */
export function createRegistryHandler(
  options: RegistryHandlerOptions,
): (req: Request) => Promise<Response> {
  const limits: Limits = {
    maxBlobSize: options.maxBlobSize ?? Infinity,
    maxManifestSize: options.maxManifestSize ?? 4 * 1024 * 1024,
    reserveSpace: options.reserveSpace ?? 0,
  };
  const maxUploads = options.maxConcurrentUploads ?? Infinity;
  let uploading = 0;
  let space: { value: Promise<number | undefined>; at: number } | undefined;
  const freeSpace = () => {
    if (space === undefined || Date.now() - space.at > 2000) {
      space = { value: options.storage.freeSpace(), at: Date.now() };
    }
    return space.value;
  };
  return async (req) => {
    const started = performance.now();
    const url = new URL(req.url);
    const entry: RequestLog = { method: req.method, path: url.pathname, status: 0, durationMs: 0 };
    let response: Response;
    try {
      response = await handle(req, url, entry);
    } catch (error) {
      if (error instanceof RegistryError) {
        response = errorResponse(error);
      } else if ((error as { code?: unknown })?.code === "ENOSPC") {
        // The write was undone (temp file removed, chunk truncated); say why.
        entry.error = error;
        response = errorResponse(
          new RegistryError("SIZE_INVALID", "Storage is full", { status: 507, cause: error }),
        );
      } else {
        entry.error = error;
        response = jsonResponse(
          { errors: [{ code: "UNKNOWN", message: "internal server error" }] },
          {},
          500,
        );
      }
      await req.body?.cancel().catch(() => {});
    }
    response.headers.set(...API_VERSION_HEADER);
    entry.status = response.status;
    entry.durationMs = performance.now() - started;
    options.log?.(entry);
    return response;
  };

  async function handle(req: Request, url: URL, entry: RequestLog): Promise<Response> {
    if (options.authenticate !== undefined) {
      const user = await options.authenticate(req);
      if (user === undefined) {
        return errorResponse(new RegistryError("UNAUTHORIZED"), {
          "WWW-Authenticate": 'Basic realm="berth"',
        });
      }
      entry.user = user;
    }
    const found = route(req.method, url.pathname);
    if (found === undefined) {
      throw new RegistryError("UNSUPPORTED", `No endpoint at "${url.pathname.slice(0, 200)}"`, {
        status: 404,
      });
    }
    if (found === "method") {
      throw new RegistryError("UNSUPPORTED", `Method ${req.method} is not supported here`);
    }
    const ctx: RequestContext = { req, url, storage: options.storage, limits, freeSpace };
    if (!carriesBlob(req, url)) return await found.fn(ctx, found.m);
    if (uploading >= maxUploads) {
      return errorResponse(
        new RegistryError("TOOMANYREQUESTS", `More than ${maxUploads} uploads at once`),
        { "Retry-After": "1" },
      );
    }
    uploading++;
    try {
      return await found.fn(ctx, found.m);
    } finally {
      uploading--;
    }
  }
}
