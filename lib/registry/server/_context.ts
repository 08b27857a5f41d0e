/**
 * What each request handler receives: the storage, the server's limits, the
 * request and its parsed URL.
 *
 * @module
 */
import { RegistryError } from "../_errors.ts";
import { tooLarge } from "./_stream.ts";
import type { RegistryStorage } from "./storage.ts";

/** Limits the handlers enforce. */
export interface Limits {
  /** Largest blob accepted. */
  maxBlobSize: number;
  /** Largest manifest accepted. */
  maxManifestSize: number;
  /** Bytes to leave free on the storage's disk. */
  reserveSpace: number;
}

/** One request, as the handlers see it. */
export interface RequestContext {
  req: Request;
  url: URL;
  storage: RegistryStorage;
  limits: Limits;
  /** Free bytes on the storage, cached for a moment (spawning `df` per chunk is wasteful). */
  freeSpace(): Promise<number | undefined>;
}

/** Bodies below this size skip the free-space check. */
const SPACE_CHECK_MIN = 1024 * 1024;

/**
 * Refuses a body early, before reading it, when its announced length is past
 * the blob limit or the free space.
 * @param length the announced Content-Length
 * @param already bytes the blob already holds (a chunked upload)
 * @throws {RegistryError} SIZE_INVALID (413)
 */
export async function checkRoom(
  ctx: RequestContext,
  length: number | undefined,
  already = 0,
): Promise<void> {
  if (length === undefined) return;
  if (already + length > ctx.limits.maxBlobSize) throw tooLarge(ctx.limits.maxBlobSize);
  if (length < SPACE_CHECK_MIN) return;
  const free = await ctx.freeSpace();
  if (free !== undefined && length > free - ctx.limits.reserveSpace) {
    throw new RegistryError("SIZE_INVALID", `Not enough space for ${length} bytes: ${free} free`, {
      status: 413,
      detail: { length, free },
    });
  }
}
