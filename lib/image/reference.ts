/**
 * Image references (`busybox`, `localhost:5000/a/b:tag@sha256:...`), parsed
 * and normalised as Docker's distribution/reference does
 * (`ParseNormalizedNamed` followed by `TagNameOnly`).
 *
 * @module
 */
import { type Digest, isDigest } from "../digest.ts";
import { InvalidError } from "../errors.ts";

/** A normalised image reference. */
export interface Reference {
  /** Registry host with optional port: `docker.io`, `localhost:5000`. */
  readonly domain: string;
  /** Repository path inside the registry: `library/busybox`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

/** The registry of a reference that names none. */
export const DEFAULT_DOMAIN = "docker.io";
/** The tag of a reference that names neither a tag nor a digest. */
export const DEFAULT_TAG = "latest";

const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_PREFIX = "library/";
const NAME_TOTAL_LENGTH_MAX = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const HOST_PORT = /^(\[[a-fA-F0-9:]+\]|[^:]+)(?::[0-9]+)?$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST_SHAPE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const FULL_ID = /^[a-f0-9]{64}$/;
const ID_PREFIX = /^(?:sha256:)?[a-f0-9]{12,64}$/;

function invalid(input: string, reason?: string): InvalidError {
  const suffix = reason === undefined ? "" : `: ${reason}`;
  return new InvalidError(`Invalid reference format: "${input}"${suffix}`);
}

function isDomain(domain: string): boolean {
  const host = HOST_PORT.exec(domain)?.[1];
  if (host === undefined) return false;
  return host.startsWith("[") || host.split(".").every((part) => DOMAIN_COMPONENT.test(part));
}

/** Docker's splitDockerDomain: the first component is a registry when it looks like one. */
function splitDomain(name: string): [string, string] {
  const slash = name.indexOf("/");
  const first = name.slice(0, slash);
  let [domain, rest] = slash === -1 ||
      (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)
    ? [DEFAULT_DOMAIN, name]
    : [first, name.slice(slash + 1)];
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes("/")) rest = OFFICIAL_PREFIX + rest;
  return [domain, rest];
}

function parseDigestPart(input: string, value: string): Digest {
  if (!DIGEST_SHAPE.test(value)) throw invalid(input);
  if (isDigest(value)) return value;
  if (!value.startsWith("sha256:")) throw invalid(input, "unsupported digest algorithm");
  throw invalid(
    input,
    value.length === 71 ? "invalid checksum digest format" : "invalid checksum digest length",
  );
}

/**
 * Parses and normalises an image reference: `busybox` becomes
 * `docker.io/library/busybox:latest`.
 * @param input a reference as a user types it
 * @returns the normalised reference; `tag` is `latest` when neither a tag nor a digest is given
 * @throws {InvalidError} `Invalid reference format: "<input>"`, with Docker's reason
 *   when there is one (`repository name must be lowercase`)
 */
export function parseReference(input: string): Reference {
  if (FULL_ID.test(input)) {
    throw new InvalidError(
      `Invalid repository name "${input}": cannot specify 64-byte hexadecimal strings`,
    );
  }
  if (input === "") throw invalid(input, "repository name must have at least one component");
  const [domain, rest] = splitDomain(input);
  const remote = rest.split(":", 1)[0] as string;
  if (remote.toLowerCase() !== remote) throw invalid(input, "repository name must be lowercase");

  const at = rest.indexOf("@");
  const nameTag = at === -1 ? rest : rest.slice(0, at);
  const colon = nameTag.lastIndexOf(":");
  const path = colon === -1 ? nameTag : nameTag.slice(0, colon);
  const tag = colon === -1 ? undefined : nameTag.slice(colon + 1);
  if (!isDomain(domain) || !path.split("/").every((part) => PATH_COMPONENT.test(part))) {
    throw invalid(input);
  }
  if (tag !== undefined && !TAG.test(tag)) throw invalid(input);
  if (domain.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(
      input,
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
    );
  }
  const digest = at === -1 ? undefined : parseDigestPart(input, rest.slice(at + 1));
  if (digest !== undefined) {
    return tag === undefined ? { domain, path, digest } : { domain, path, tag, digest };
  }
  return { domain, path, tag: tag ?? DEFAULT_TAG };
}

/**
 * Parses the `REPOSITORY[:TAG]` argument of `import`, `tag` and `commit`:
 * a reference that must not carry a digest.
 * @throws {InvalidError} when the reference is malformed or has a digest
 */
export function parseRepositoryTag(input: string): Reference {
  const ref = parseReference(input);
  if (ref.digest !== undefined) {
    throw invalid(input, "refusing to create a tag with a digest reference");
  }
  return ref;
}

/** `docker.io/library/busybox`: the repository with its registry. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full form: `docker.io/library/busybox:latest`, `name:tag@sha256:...`. */
export function formatReference(ref: Reference): string {
  return withTagAndDigest(repositoryName(ref), ref);
}

/** The short repository name Docker prints: `busybox`, `user/app`, `localhost:5000/a/b`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  const rest = ref.path.slice(OFFICIAL_PREFIX.length);
  return ref.path.startsWith(OFFICIAL_PREFIX) && !rest.includes("/") ? rest : ref.path;
}

/** The short form Docker prints: `busybox:latest`, `user/app@sha256:...`. */
export function familiarString(ref: Reference): string {
  return withTagAndDigest(familiarName(ref), ref);
}

function withTagAndDigest(name: string, ref: Reference): string {
  const tag = ref.tag === undefined ? "" : `:${ref.tag}`;
  const digest = ref.digest === undefined ? "" : `@${ref.digest}`;
  return name + tag + digest;
}

/** True when `tag` is a valid tag: `[\w][\w.-]{0,127}`. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** True for 12 to 64 lowercase hex digits, optionally after `sha256:`: an image ID or its prefix. */
export function looksLikeImageId(value: string): boolean {
  return ID_PREFIX.test(value);
}
