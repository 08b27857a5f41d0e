/**
 * What the server needs from a pushed manifest or index: its media type, the
 * blobs and manifests it references, its subject and artifact type. The
 * validation itself is lib/image's.
 *
 * @module
 */
import {
  type Descriptor as ImageDescriptor,
  isIndexType,
  isManifestType,
  parseManifestOrIndex,
} from "../../image/mod.ts";
import { RegistryError } from "../_errors.ts";

/** The references of a pushed document. */
export interface ManifestRefs {
  mediaType: string;
  kind: "manifest" | "index";
  /** Config and layers that must be in the repository (foreign layers with `urls` left out). */
  blobs: ImageDescriptor[];
  /** Child manifests of an index. */
  manifests: ImageDescriptor[];
  subject?: ImageDescriptor;
  /** `artifactType`, else the config's media type (what the referrers API lists). */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Content types that say nothing about the kind of document. */
const GENERIC = new Set(["", "application/json", "application/octet-stream"]);

/**
 * Reads a pushed manifest or index.
 * @param bytes the body
 * @param contentType the request's Content-Type (parameters dropped)
 * @throws {RegistryError} MANIFEST_INVALID when it does not parse or its media type is unknown
 */
export function inspectManifest(bytes: Uint8Array, contentType: string | null): ManifestRefs {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const known = isManifestType(type) || isIndexType(type);
  if (!known && !GENERIC.has(type)) {
    throw invalid(`Unsupported manifest media type: "${type.slice(0, 200)}"`, {
      mediaType: type.slice(0, 200),
    });
  }
  let doc;
  try {
    doc = parseManifestOrIndex(bytes, known ? type : undefined);
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error), undefined, error);
  }
  const mediaType = known ? type : doc.mediaType;
  if (doc.kind === "index") {
    const { index } = doc;
    return withOptional({ mediaType, kind: "index", blobs: [], manifests: index.manifests }, {
      subject: index.subject,
      artifactType: index.artifactType,
      annotations: index.annotations,
    });
  }
  const { manifest } = doc;
  const blobs = [manifest.config, ...manifest.layers].filter((d) =>
    !((d.urls?.length ?? 0) > 0 && /foreign|nondistributable/.test(d.mediaType))
  );
  return withOptional({ mediaType, kind: "manifest", blobs, manifests: [] }, {
    subject: manifest.subject,
    artifactType: manifest.artifactType ?? manifest.config.mediaType,
    annotations: manifest.annotations,
  });
}

function withOptional(
  base: ManifestRefs,
  extra: {
    subject: ImageDescriptor | undefined;
    artifactType: string | undefined;
    annotations: Record<string, string> | undefined;
  },
): ManifestRefs {
  const out = { ...base };
  if (extra.subject !== undefined) out.subject = extra.subject;
  if (extra.artifactType !== undefined) out.artifactType = extra.artifactType;
  if (extra.annotations !== undefined) out.annotations = extra.annotations;
  return out;
}

function invalid(message: string, detail?: unknown, cause?: unknown): RegistryError {
  return new RegistryError("MANIFEST_INVALID", message, { detail, cause });
}
