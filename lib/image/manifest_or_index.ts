/**
 * Decoding a document that may be either a manifest or an index, as a
 * registry answers `GET /v2/<name>/manifests/<reference>`.
 *
 * @module
 */
import { decodeObject } from "./_fields.ts";
import { type Index, parseIndex } from "./index.ts";
import { type Manifest, parseManifest } from "./manifest.ts";
import { isIndexType, isManifestType, MEDIA_TYPES } from "./media_types.ts";

/** A decoded manifest or index, with the media type it was resolved as. */
export type ManifestOrIndex =
  | { kind: "manifest"; mediaType: string; manifest: Manifest }
  | { kind: "index"; mediaType: string; index: Index };

/**
 * Decodes a manifest or an index. The kind comes from the body's `mediaType`,
 * else from `mediaTypeHint`, else from the shape (`manifests` means an index),
 * as OCI allows an untyped body.
 * @param input the document's bytes or text
 * @param mediaTypeHint the content type it was served or stored with
 * @returns the document and its media type (OCI's when nothing names one)
 * @throws {InvalidError} naming the first bad field
 */
export function parseManifestOrIndex(
  input: Uint8Array | string,
  mediaTypeHint?: string,
): ManifestOrIndex {
  const body = decodeObject(input, "image manifest");
  const declared = typeof body.mediaType === "string" ? body.mediaType : undefined;
  const hint = mediaTypeHint !== undefined &&
      (isManifestType(mediaTypeHint) || isIndexType(mediaTypeHint))
    ? mediaTypeHint
    : undefined;
  const known = declared ?? hint;
  const isIndex = known !== undefined && isManifestType(known)
    ? false
    : (known !== undefined && isIndexType(known)) || Array.isArray(body.manifests);
  if (isIndex) {
    const index = parseIndex(input, mediaTypeHint);
    return { kind: "index", mediaType: known ?? MEDIA_TYPES.OCI_INDEX, index };
  }
  const manifest = parseManifest(input, mediaTypeHint);
  return { kind: "manifest", mediaType: known ?? MEDIA_TYPES.OCI_MANIFEST, manifest };
}
