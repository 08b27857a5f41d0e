/**
 * Media types of the OCI image-spec and of Docker's image manifest schema 2,
 * with predicates that accept both families.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";

/** OCI and Docker media types, by role. */
export const MEDIA_TYPES = {
  OCI_MANIFEST: "application/vnd.oci.image.manifest.v1+json",
  OCI_INDEX: "application/vnd.oci.image.index.v1+json",
  OCI_CONFIG: "application/vnd.oci.image.config.v1+json",
  OCI_LAYER: "application/vnd.oci.image.layer.v1.tar",
  OCI_LAYER_GZIP: "application/vnd.oci.image.layer.v1.tar+gzip",
  OCI_LAYER_ZSTD: "application/vnd.oci.image.layer.v1.tar+zstd",
  OCI_LAYER_NONDISTRIBUTABLE: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  OCI_LAYER_NONDISTRIBUTABLE_GZIP: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  OCI_LAYER_NONDISTRIBUTABLE_ZSTD: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  OCI_EMPTY: "application/vnd.oci.empty.v1+json",
  DOCKER_MANIFEST: "application/vnd.docker.distribution.manifest.v2+json",
  DOCKER_MANIFEST_LIST: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** Schema 1 is obsolete; named only to recognise it and refuse it clearly. */
  DOCKER_MANIFEST_V1: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  DOCKER_CONFIG: "application/vnd.docker.container.image.v1+json",
  DOCKER_LAYER: "application/vnd.docker.image.rootfs.diff.tar",
  DOCKER_LAYER_GZIP: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DOCKER_LAYER_ZSTD: "application/vnd.docker.image.rootfs.diff.tar.zstd",
  DOCKER_FOREIGN_LAYER: "application/vnd.docker.image.rootfs.foreign.diff.tar",
  DOCKER_FOREIGN_LAYER_GZIP: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

/** Compression of a layer blob. */
export type LayerCompression = "none" | "gzip" | "zstd";

const MANIFEST_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPES.OCI_MANIFEST,
  MEDIA_TYPES.DOCKER_MANIFEST,
]);
const INDEX_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPES.OCI_INDEX,
  MEDIA_TYPES.DOCKER_MANIFEST_LIST,
]);
const CONFIG_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPES.OCI_CONFIG,
  MEDIA_TYPES.DOCKER_CONFIG,
]);
const LAYER_TYPES: ReadonlyMap<string, LayerCompression> = new Map([
  [MEDIA_TYPES.OCI_LAYER, "none"],
  [MEDIA_TYPES.OCI_LAYER_GZIP, "gzip"],
  [MEDIA_TYPES.OCI_LAYER_ZSTD, "zstd"],
  [MEDIA_TYPES.OCI_LAYER_NONDISTRIBUTABLE, "none"],
  [MEDIA_TYPES.OCI_LAYER_NONDISTRIBUTABLE_GZIP, "gzip"],
  [MEDIA_TYPES.OCI_LAYER_NONDISTRIBUTABLE_ZSTD, "zstd"],
  [MEDIA_TYPES.DOCKER_LAYER, "none"],
  [MEDIA_TYPES.DOCKER_LAYER_GZIP, "gzip"],
  [MEDIA_TYPES.DOCKER_LAYER_ZSTD, "zstd"],
  [MEDIA_TYPES.DOCKER_FOREIGN_LAYER, "none"],
  [MEDIA_TYPES.DOCKER_FOREIGN_LAYER_GZIP, "gzip"],
]);

/** True for an OCI image manifest or a Docker schema 2 manifest. */
export function isManifestType(mediaType: string): boolean {
  return MANIFEST_TYPES.has(mediaType);
}

/** True for an OCI image index or a Docker manifest list. */
export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

/** True for an OCI or Docker image config. */
export function isConfigType(mediaType: string): boolean {
  return CONFIG_TYPES.has(mediaType);
}

/** True for any OCI or Docker layer type, distributable or not. */
export function isLayerType(mediaType: string): boolean {
  return LAYER_TYPES.has(mediaType);
}

/**
 * The compression a layer media type announces.
 * @throws {InvalidError} when `mediaType` is not a known layer type
 */
export function layerCompression(mediaType: string): LayerCompression {
  const compression = LAYER_TYPES.get(mediaType);
  if (compression === undefined) {
    throw new InvalidError(`Unsupported layer media type: "${mediaType}"`);
  }
  return compression;
}
