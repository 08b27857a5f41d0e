/**
 * The OCI distribution-spec registry: the server (a registry on `Deno.serve`
 * over a pluggable {@linkcode RegistryStorage}, filesystem by default, with
 * garbage collection), the client, and the error codes both share.
 *
 * @example
 * ```ts
 * import { FsStorage, serveRegistry } from "./lib/registry/mod.ts";
 * const server = serveRegistry({ storage: new FsStorage("/tmp/registry"), port: 0 });
 * console.log(`Listening on ${server.url}`);
 * await server.shutdown();
 * ```
 * @module
 */
export {
  ERROR_STATUS,
  type ErrorCode,
  type ErrorEntry,
  isErrorCode,
  parseErrorBody,
  RegistryError,
  type RegistryErrorOptions,
} from "./_errors.ts";
export type {
  AppendOptions,
  BlobInfo,
  ByteRange,
  Descriptor,
  ManifestRecord,
  RegistryStorage,
  UploadInfo,
  WriteOptions,
} from "./server/storage.ts";
export { FsStorage } from "./server/fs_storage.ts";
export { MemoryStorage } from "./server/memory_storage.ts";
export {
  createRegistryHandler,
  type RegistryHandlerOptions,
  type RequestLog,
} from "./server/handler.ts";
export { type RegistryServer, serveRegistry, type ServeRegistryOptions } from "./server/server.ts";
export { type Authenticator, Htpasswd } from "./server/htpasswd.ts";
export { collectGarbage, type GcOptions, type GcReport } from "./server/gc.ts";
export {
  isRepositoryName,
  isTag,
  parseManifestReference,
  validateDigest,
  validateName,
} from "./server/names.ts";
export {
  type Credentials,
  type CredentialsLookup,
  type EndpointSettings,
  type FetchedManifest,
  isLoopbackHost,
  RegistryClient,
  registryEndpoints,
  type TransportOptions,
  type UploadResult,
} from "./client/mod.ts";
