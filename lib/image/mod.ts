/**
 * The image model, pure and without I/O: references, media types,
 * descriptors, manifests, indexes, configs and platforms, as the OCI
 * image-spec and Docker's schema 2 define them.
 *
 * Parsers validate a document's shape and throw `InvalidError` naming the bad
 * field; they keep unknown fields, so {@linkcode encodeJson} reproduces
 * compact input byte for byte.
 *
 * @example Resolve a reference and pick a platform
 * ```ts
 * import { familiarString, parseManifestOrIndex, parseReference, selectPlatform } from "./mod.ts";
 *
 * const ref = parseReference("busybox"); // docker.io/library/busybox:latest
 * console.log(familiarString(ref)); // "busybox:latest"
 * const doc = parseManifestOrIndex('{"schemaVersion":2,"manifests":[]}');
 * if (doc.kind === "index") {
 *   console.log(selectPlatform(doc.index, { os: "linux", architecture: "arm64" })); // undefined
 * }
 * ```
 *
 * @module
 */
export {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  familiarName,
  familiarString,
  formatReference,
  isValidTag,
  looksLikeImageId,
  parseReference,
  parseRepositoryTag,
  type Reference,
  repositoryName,
} from "./reference.ts";
export {
  isConfigType,
  isIndexType,
  isLayerType,
  isManifestType,
  type LayerCompression,
  layerCompression,
  MEDIA_TYPES,
} from "./media_types.ts";
export { type Descriptor, parseDescriptor, type Platform } from "./descriptor.ts";
export { type Manifest, parseManifest } from "./manifest.ts";
export { type Index, parseIndex } from "./index.ts";
export { type ManifestOrIndex, parseManifestOrIndex } from "./manifest_or_index.ts";
export {
  type ContainerConfig,
  type HealthConfig,
  type History,
  type ImageConfig,
  parseImageConfig,
} from "./config.ts";
export { encodeJson, type EncodeJsonOptions } from "./encode_json.ts";
export {
  currentPlatform,
  formatPlatform,
  normalizePlatform,
  parsePlatform,
  type PlatformSpec,
  selectPlatform,
} from "./platform.ts";
