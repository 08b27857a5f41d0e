/**
 * Content digests (`sha256:<hex>`): parsing, formatting and streaming
 * verification, as the OCI image-spec defines them.
 *
 * No `node:` module loads with this one: the first costs ~20 ms of
 * Node-compat start, which container commands (`run`, `ps`, the monitor)
 * must not pay to check a manifest. Hashing uses node:crypto (OpenSSL,
 * ~1.5 GB/s here) once {@linkcode loadNativeSha256} has run, which the
 * commands that hash layers (import, load, save, pull, push, the registry
 * server) do first; until then it uses lib/sha256.ts (~130 MB/s).
 *
 * @module
 */
import { DigestMismatchError, InvalidError } from "./errors.ts";
import { Sha256 } from "./sha256.ts";

/** The part of node:crypto's Hash this module uses. */
interface NativeHash {
  update(data: Uint8Array | string): NativeHash;
  digest(encoding: "hex"): string;
}

let nativeSha256: (() => NativeHash) | undefined;

/**
 * Makes {@linkcode Hasher} and {@linkcode sha256} use node:crypto from now on.
 * Call it before hashing layers; it costs ~20 ms once per process.
 */
export async function loadNativeSha256(): Promise<void> {
  if (nativeSha256 !== undefined) return;
  const { createHash } = await import("node:crypto");
  nativeSha256 = () => createHash("sha256");
}

const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += (b < 16 ? "0" : "") + b.toString(16);
  return out;
}

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
  const hasher = new Hasher();
  hasher.update(typeof data === "string" ? encoder.encode(data) : data);
  return hasher.digest();
}

/** Incremental sha256 that also counts bytes. */
export class Hasher {
  #hash: NativeHash | Sha256 = nativeSha256?.() ?? new Sha256();
  size = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.size += chunk.byteLength;
  }

  digest(): Digest {
    const hash = this.#hash;
    return `sha256:${hash instanceof Sha256 ? hex(hash.digest()) : hash.digest("hex")}`;
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
