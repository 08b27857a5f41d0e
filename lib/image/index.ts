/**
 * Image indexes: OCI's `application/vnd.oci.image.index.v1+json` and Docker's
 * manifest list `application/vnd.docker.distribution.manifest.list.v2+json`
 * (OCI image-spec image-index.md).
 *
 * @module
 */
import { checkDocumentType } from "./_document.ts";
import { decodeObject, Fields } from "./_fields.ts";
import { checkDescriptor, type Descriptor } from "./descriptor.ts";
import { isIndexType } from "./media_types.ts";

/** An image index: one manifest per platform, or any set of manifests. */
export interface Index {
  schemaVersion: 2;
  /** Required by Docker's manifest list, optional in OCI. */
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

const WHAT = "image index";

/**
 * Decodes and validates an image index or manifest list, keeping unknown
 * fields and key order.
 * @param input the index's bytes or text
 * @param mediaTypeHint the content type it was served or stored with
 * @returns the decoded index
 * @throws {InvalidError} naming the first bad field, e.g.
 *   `Invalid image index: "manifests[0].platform.os" is missing`
 */
export function parseIndex(input: Uint8Array | string, mediaTypeHint?: string): Index {
  const fields = new Fields(WHAT, decodeObject(input, WHAT));
  checkDocumentType(fields, isIndexType, mediaTypeHint);
  for (const manifest of fields.objects("manifests") ?? []) checkDescriptor(manifest);
  const subject = fields.object("subject");
  if (subject !== undefined) checkDescriptor(subject);
  return fields.obj as unknown as Index;
}
