/**
 * Content descriptors and platforms, as the OCI image-spec defines them
 * (descriptor.md, image-index.md).
 *
 * @module
 */
import type { Digest } from "../digest.ts";
import { InvalidError } from "../errors.ts";
import { Fields, type JsonObject } from "./_fields.ts";

/** The platform an image runs on (`linux/arm64/v8`). */
export interface Platform {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  features?: string[];
}

/** A reference to content by media type, digest and size. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  /** Base64 of the content itself, embedded (OCI 1.1). */
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

/** Checks a platform object's shape in place. */
export function checkPlatform(fields: Fields): void {
  fields.string("architecture");
  fields.string("os");
  fields.string("os.version", false);
  fields.strings("os.features");
  fields.string("variant", false);
  fields.strings("features");
}

/**
 * Checks a descriptor's shape in place and returns it typed.
 * @throws {InvalidError} naming the first bad field
 */
export function checkDescriptor(fields: Fields): Descriptor {
  fields.string("mediaType");
  fields.digest("digest");
  fields.integer("size");
  fields.strings("urls");
  fields.stringMap("annotations");
  fields.string("data", false);
  fields.string("artifactType", false);
  const platform = fields.object("platform");
  if (platform !== undefined) checkPlatform(platform);
  return fields.obj as unknown as Descriptor;
}

/**
 * Validates a decoded descriptor.
 * @param value a decoded JSON value
 * @param what the document named in errors
 * @returns the same object, typed
 * @throws {InvalidError} naming the first bad field
 */
export function parseDescriptor(value: unknown, what = "descriptor"): Descriptor {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidError(`Invalid ${what}: not a JSON object`);
  }
  return checkDescriptor(new Fields(what, value as JsonObject));
}
