/**
 * Content digests (`sha256:<hex>`): parsing, formatting and streaming
 * verification, as the OCI image-spec defines them.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { DigestMismatchError, InvalidError } from "./errors.ts";

/** A validated `algorithm:hex` digest string. */
export type Digest = `sha256:${string}`;

const SHA256_RE = /^sha256:[a-f0-9]{64}$/;

/** Returns true when `value` is a well-formed sha256 digest. */
export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && SHA256_RE.test(value);
}

/**
 * Parses a digest string.
 * @throws {InvalidError} when it is not `sha256:` followed by 64 lowercase hex digits
 */
export function parseDigest(value: string, what = "digest"): Digest {
  if (isDigest(value)) return value;
  if (
    /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(value) && !value.startsWith("sha256:")
  ) {
    throw new InvalidError(`Unsupported ${what} algorithm: "${value.split(":")[0]}"`);
  }
  throw new InvalidError(`Invalid ${what}: "${value}"`);
}

/** The hex part of a digest. */
export function digestHex(digest: Digest): string {
  return digest.slice("sha256:".length);
}

/** sha256 of bytes or a string, as a digest. */
export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Incremental sha256 that also counts bytes. */
export class Hasher {
  #hash: Hash = createHash("sha256");
  size = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.size += chunk.byteLength;
  }

  digest(): Digest {
    return `sha256:${this.#hash.digest("hex")}`;
  }
}

/**
 * Checks `actual` against `expected`.
 * @throws {DigestMismatchError} when they differ
 */
export function verifyDigest(expected: Digest, actual: Digest, what?: string): void {
  if (expected !== actual) throw new DigestMismatchError(expected, actual, what);
}

/** Computes a chain ID per the OCI image-spec from ordered diff IDs. */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diffId : sha256(`${prev} ${diffId}`));
  }
  return out;
}
