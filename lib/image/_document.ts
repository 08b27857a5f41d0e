/**
 * Checks shared by manifests and indexes: the schema version and the
 * agreement between a body's `mediaType` and the content type it came with.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";
import type { Fields } from "./_fields.ts";
import { isIndexType, isManifestType } from "./media_types.ts";

/**
 * Checks `schemaVersion` and `mediaType` of a manifest or an index.
 * @param fields the document's root
 * @param accepts true for the media types of this kind of document
 * @param hint the transport's content type, when known
 * @returns the body's `mediaType`, if any
 */
export function checkDocumentType(
  fields: Fields,
  accepts: (mediaType: string) => boolean,
  hint: string | undefined,
): string | undefined {
  const version = fields.integer("schemaVersion");
  if (version !== 2) fields.fail("schemaVersion", `is ${version}, expected 2`);
  const mediaType = fields.string("mediaType", false);
  if (mediaType !== undefined && !accepts(mediaType)) {
    fields.fail("mediaType", `is not an ${fields.what} media type: "${mediaType}"`);
  }
  // Only a known type can contradict: registries also send application/json.
  if (hint !== undefined && (isManifestType(hint) || isIndexType(hint))) {
    if (!accepts(hint)) {
      throw new InvalidError(
        `Invalid ${fields.what}: content type "${hint}" is not an ${fields.what} media type`,
      );
    }
    if (mediaType !== undefined && mediaType !== hint) {
      fields.fail("mediaType", `is "${mediaType}" but the content type is "${hint}"`);
    }
  }
  fields.string("artifactType", false);
  fields.stringMap("annotations");
  return mediaType;
}
