/**
 * The distribution-spec grammars for repository names, tags and digests.
 * Every path segment taken from a URL passes through here before it reaches
 * storage, so `..`, `/` tricks and odd bytes never touch the filesystem.
 *
 * @module
 */
import type { Digest } from "../../digest.ts";
import { RegistryError } from "../_errors.ts";

const COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Longest repository name accepted (clients limit host + name to 255). */
export const MAX_NAME_LENGTH = 255;

/** Returns true when `name` is a valid repository name. */
export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

/**
 * Checks a repository name against the spec's grammar.
 * @throws {RegistryError} NAME_INVALID
 */
export function validateName(name: string): string {
  if (!isRepositoryName(name)) {
    throw new RegistryError("NAME_INVALID", `Invalid repository name: "${name.slice(0, 300)}"`, {
      detail: { name: name.slice(0, 300) },
    });
  }
  return name;
}

/** Returns true when `tag` is a valid tag. */
export function isTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/**
 * Checks a digest: only sha256 is supported.
 * @throws {RegistryError} DIGEST_INVALID, naming an unsupported algorithm when it is well-formed
 */
export function validateDigest(value: string): Digest {
  if (SHA256_RE.test(value)) return value as Digest;
  const message = ANY_DIGEST_RE.test(value) && !value.startsWith("sha256:")
    ? `Unsupported digest algorithm: "${value.split(":")[0]}"`
    : `Invalid digest: "${value.slice(0, 200)}"`;
  throw new RegistryError("DIGEST_INVALID", message, { detail: { digest: value.slice(0, 200) } });
}

/** A manifest reference from a URL: a tag or a digest. */
export type ManifestRef = { tag: string; digest?: undefined } | { digest: Digest; tag?: undefined };

/**
 * Parses the `<reference>` of `/v2/<name>/manifests/<reference>`.
 * @throws {RegistryError} DIGEST_INVALID for a bad digest, MANIFEST_INVALID for a bad tag
 */
export function parseManifestReference(reference: string): ManifestRef {
  if (reference.includes(":")) return { digest: validateDigest(reference) };
  if (!isTag(reference)) {
    throw new RegistryError("MANIFEST_INVALID", `Invalid tag: "${reference.slice(0, 200)}"`, {
      detail: { tag: reference.slice(0, 200) },
    });
  }
  return { tag: reference };
}

/**
 * Parses the `<reference>` of a `GET`, `HEAD` or `DELETE` of a manifest. The
 * spec answers those with 404 for anything not found, and a reference that is
 * neither a tag nor a sha256 digest names nothing that could be stored: it is
 * MANIFEST_UNKNOWN (404), not a 400 as for `PUT`.
 * @throws {RegistryError} MANIFEST_UNKNOWN
 */
export function parseManifestLookup(reference: string): ManifestRef {
  if (SHA256_RE.test(reference)) return { digest: reference as Digest };
  if (isTag(reference)) return { tag: reference };
  throw new RegistryError("MANIFEST_UNKNOWN", undefined, { detail: reference.slice(0, 200) });
}
