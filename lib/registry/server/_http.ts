/**
 * HTTP helpers for the registry handlers: error and JSON responses, the
 * `Range`/`Content-Range` grammars, `n`/`last` pagination with `Link`.
 *
 * @module
 */
import { RegistryError } from "../_errors.ts";
import type { ByteRange } from "./storage.ts";

/** The header every response carries (Docker's clients look for it). */
export const API_VERSION_HEADER = ["Docker-Distribution-API-Version", "registry/2.0"] as const;

/** The spec's JSON error response for `error`. */
export function errorResponse(error: RegistryError, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("Content-Type", "application/json");
  return new Response(JSON.stringify(error.toBody()), { status: error.status, headers: h });
}

/** A JSON response. */
export function jsonResponse(body: unknown, headers: HeadersInit = {}, status = 200): Response {
  const h = new Headers(headers);
  if (!h.has("Content-Type")) h.set("Content-Type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** An empty response with `status` and `headers`. */
export function emptyResponse(status: number, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("Content-Length", "0");
  return new Response(null, { status, headers: h });
}

/** The `Range` value of an upload holding `size` bytes (`0-<last byte>`; `0-0` when empty). */
export function uploadRange(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}

/**
 * Parses a request's `Range: bytes=...` for a blob of `size` bytes (a single
 * range; suffix and open-ended forms included).
 * @returns the range, or undefined to send the whole blob
 * @throws {RangeError} when the range cannot be satisfied
 */
export function parseRange(header: string | null, size: number): ByteRange | undefined {
  if (header === null) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return undefined;
  const [, a = "", b = ""] = m;
  let start: number;
  let end: number;
  if (a === "" && b === "") return undefined;
  if (a === "") {
    start = Math.max(0, size - Number(b));
    end = size - 1;
    if (Number(b) === 0) throw new RangeError("Empty suffix range");
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start > end || start >= size) {
    throw new RangeError(`Range "${header}" is outside 0-${size - 1}`);
  }
  return { start, end };
}

/**
 * Parses an upload chunk's `Content-Range` (`<start>-<end>` inclusive, as the
 * spec writes it; `bytes start-end/total` is accepted too).
 * @returns the range, or undefined when the header is absent
 * @throws {RegistryError} BLOB_UPLOAD_INVALID (416) when malformed
 */
export function parseContentRange(header: string | null): ByteRange | undefined {
  if (header === null || header.trim() === "") return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (m === null || Number(m[2]) < Number(m[1])) {
    throw new RegistryError(
      "BLOB_UPLOAD_INVALID",
      `Invalid Content-Range: "${header.slice(0, 100)}"`,
      {
        status: 416,
      },
    );
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

/**
 * The announced body length, or undefined.
 * @throws {RegistryError} SIZE_INVALID when it is not a number
 */
export function contentLength(req: Request): number | undefined {
  const value = req.headers.get("Content-Length");
  if (value === null) return undefined;
  if (!/^\d+$/.test(value.trim())) {
    throw new RegistryError("SIZE_INVALID", `Invalid Content-Length: "${value}"`);
  }
  return Number(value);
}

/** A page of a sorted list after `last`, at most `n` long, with the `Link` to the next page. */
export function paginate(
  items: readonly string[],
  url: URL,
  defaultN = Infinity,
): { page: string[]; link?: string } {
  const nParam = url.searchParams.get("n");
  const n = nParam !== null && /^\d+$/.test(nParam) ? Number(nParam) : defaultN;
  const last = url.searchParams.get("last");
  const rest = last === null ? items : items.filter((item) => item > last);
  const page = rest.slice(0, n);
  if (page.length >= rest.length || page.length === 0) return { page };
  const next = new URLSearchParams({ n: String(n), last: page[page.length - 1]! });
  return { page, link: `<${url.pathname}?${next}>; rel="next"` };
}
