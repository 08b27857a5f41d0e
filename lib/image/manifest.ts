/**
 * Image manifests: OCI's `application/vnd.oci.image.manifest.v1+json` and
 * Docker's schema 2 `application/vnd.docker.distribution.manifest.v2+json`,
 * which share one shape (OCI image-spec manifest.md).
 *
 * @module
 */
import { checkDocumentType } from "./_document.ts";
import { decodeObject, Fields } from "./_fields.ts";
import { checkDescriptor, type Descriptor } from "./descriptor.ts";
import { isManifestType } from "./media_types.ts";

/** An image manifest: one config and an ordered list of layers. */
export interface Manifest {
  schemaVersion: 2;
  /** Required by Docker schema 2, optional in OCI. */
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

const WHAT = "image manifest";

/**
 * Decodes and validates an image manifest. Unknown fields and key order are
 * kept, so encoding the result reproduces compact input byte for byte.
 * @param input the manifest's bytes or text
 * @param mediaTypeHint the content type it was served or stored with
 * @returns the decoded manifest
 * @throws {InvalidError} naming the first bad field, e.g.
 *   `Invalid image manifest: "layers[2].digest" is not a digest`
 */
export function parseManifest(input: Uint8Array | string, mediaTypeHint?: string): Manifest {
  const fields = new Fields(WHAT, decodeObject(input, WHAT));
  checkDocumentType(fields, isManifestType, mediaTypeHint);
  checkDescriptor(fields.object("config", { required: true }) as Fields);
  for (const layer of fields.objects("layers") ?? []) checkDescriptor(layer);
  const subject = fields.object("subject");
  if (subject !== undefined) checkDescriptor(subject);
  return fields.obj as unknown as Manifest;
}
