/**
 * The OCI distribution-spec error codes, their HTTP statuses and JSON bodies,
 * shared by the registry server and client.
 *
 * @module
 */
import { EngineError } from "../errors.ts";

/** HTTP status of each error code (the distribution-spec's table, as the CNCF registry sends them). */
export const ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
} as const;

/** One of the distribution-spec's error codes. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Default message of each code, as the spec words them. */
const MESSAGES: Record<ErrorCode, string> = {
  BLOB_UNKNOWN: "blob unknown to registry",
  BLOB_UPLOAD_INVALID: "blob upload invalid",
  BLOB_UPLOAD_UNKNOWN: "blob upload unknown to registry",
  DIGEST_INVALID: "provided digest did not match uploaded content",
  MANIFEST_BLOB_UNKNOWN: "manifest references a manifest or blob unknown to registry",
  MANIFEST_INVALID: "manifest invalid",
  MANIFEST_UNKNOWN: "manifest unknown to registry",
  NAME_INVALID: "invalid repository name",
  NAME_UNKNOWN: "repository name not known to registry",
  SIZE_INVALID: "provided length did not match content length",
  UNAUTHORIZED: "authentication required",
  DENIED: "requested access to the resource is denied",
  UNSUPPORTED: "the operation is unsupported",
  TOOMANYREQUESTS: "too many requests",
};

/** One entry of an error body's `errors` array. */
export interface ErrorEntry {
  /** The error code, e.g. `BLOB_UNKNOWN`. */
  code: string;
  /** A human-readable message. */
  message: string;
  /** Code-specific detail, often `{ digest }` or `{ name }`. */
  detail?: unknown;
}

/** Options for {@linkcode RegistryError}. */
export interface RegistryErrorOptions {
  /** Overrides the code's usual HTTP status (416 for a chunk out of order, 413 for a huge body). */
  status?: number;
  /** Machine-readable detail sent in the body. */
  detail?: unknown;
  /** The lower-level error behind this one. */
  cause?: unknown;
}

/** A distribution-spec error: a code, an HTTP status and an optional detail. */
export class RegistryError extends EngineError {
  /** The spec's error code. */
  readonly code: ErrorCode;
  /** The HTTP status it travels with. */
  readonly status: number;
  /** Machine-readable detail for the body. */
  readonly detail: unknown;

  /**
   * Makes an error with the code's status and, unless given, its usual message.
   * @param code the spec's error code
   * @param message a message; the code's usual one by default
   */
  constructor(code: ErrorCode, message?: string, options: RegistryErrorOptions = {}) {
    super(message ?? MESSAGES[code], options.cause === undefined ? {} : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.detail = options.detail;
  }

  /** The JSON body the spec defines: `{"errors":[{"code","message","detail"}]}`. */
  toBody(): { errors: ErrorEntry[] } {
    const entry: ErrorEntry = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}

/** Returns true when `value` is one of the spec's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}

/**
 * Reads a registry's error body (the client's side).
 * @returns the entries, or an empty array when the body is not the spec's shape
 */
export function parseErrorBody(text: string): ErrorEntry[] {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(body.errors)) return [];
    return body.errors.filter((e): e is ErrorEntry =>
      typeof e === "object" && e !== null && typeof (e as ErrorEntry).code === "string"
    ).map((e) => ({ ...e, message: typeof e.message === "string" ? e.message : "" }));
  } catch {
    return [];
  }
}
