/**
 * The OCI distribution-spec client: one {@linkcode RegistryClient} per
 * registry, with auth (anonymous, Basic, Bearer tokens), mirrors, insecure
 * registries, verified resumable downloads and chunked or mounted uploads.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "./mod.ts";
 * const client = new RegistryClient("localhost:5000");
 * const { digest } = await client.getManifest("busybox", "latest");
 * ```
 * @module
 */
export {
  basicHeader,
  type Challenge,
  type Credentials,
  type CredentialsLookup,
  IDENTITY_TOKEN_USER,
  parseChallenge,
} from "./auth.ts";
export { type BlobStreamOptions } from "./blob_stream.ts";
export { type UploadOptions, type UploadResult, type UploadStreamOptions } from "./blob_upload.ts";
export {
  DOCKER_HUB_HOST,
  type EndpointSettings,
  isLoopbackHost,
  type RegistryEndpoints,
  registryEndpoints,
} from "./endpoint.ts";
export { type FetchedManifest, MANIFEST_ACCEPT, RegistryClient } from "./registry_client.ts";
export {
  type RegistryRequest,
  responseError,
  Transport,
  type TransportOptions,
} from "./transport.ts";
