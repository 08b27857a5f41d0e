/**
 * berth's engine: Docker's object model (images now; containers, volumes and
 * networks as they arrive) over the store, the archive code and the runtime.
 * Front ends (the CLI, later the API server) call only this module, or its
 * read side `read.ts` (re-exported here) when they only read: that one loads
 * no runtime, monitor, tar or registry module.
 *
 * @example
 * ```ts
 * import { Engine } from "./lib/engine/mod.ts";
 * const engine = Engine.open("/var/lib/berth");
 * for (const image of engine.listImages()) console.log(image.id);
 * ```
 * @module
 */
// The read side (read.ts, engine.ts) loads no runtime, monitor, tar or registry module;
// import, load, save, pull and push load theirs on first use.
import type { ImportOptions } from "./image_import.ts";
import type { LoadedImage, LoadOptions } from "./image_load.ts";
import type { SaveFormat } from "./image_save.ts";
import type { PruneReport, RemoveEvent, RemoveOptions } from "./image_remove.ts";
import type { HistoryRow } from "./image_inspect.ts";
import type { CommittedImage } from "./image_commit.ts";
import type { PullOptions, PullResult } from "./image_pull.ts";
import type { PushOptions, PushResult } from "./image_push.ts";
import type { loginRegistry as LoginRegistry } from "./registry_login.ts";

export {
  ContainerReader,
  type ContainerRecord,
  type ContainerState,
  Engine,
  familiarTags,
  filterLogs,
  type ImageRecord,
  type ImageSummary,
  type LogEntry,
  readLogChunk,
  seccompProfileOf,
} from "./read.ts";
export type { DiskUsage, UsageRow } from "./engine.ts";
export { ContainerService, type ContainerServiceOptions } from "./containers.ts";
export type { ContainerOptions } from "./container_create.ts";
export type { AttachIO } from "./container_supervise.ts";
export type { AttachClient, AttachEnd } from "./container_attach.ts";
export { authKey, defaultConfigDir, DOCKER_HUB_AUTH_KEY, RegistryConfig } from "./auth_config.ts";
export type { PullEvent } from "./image_pull.ts";
export type { PushEvent } from "./image_push.ts";
export type { PullOptions, PullResult, PushOptions, PushResult };
export type {
  CommittedImage,
  HistoryRow,
  ImportOptions,
  LoadedImage,
  LoadOptions,
  PruneReport,
  RemoveEvent,
  RemoveOptions,
  SaveFormat,
};

/** `login`: checks credentials against a registry, then saves them (registry_login.ts). */
export async function loginRegistry(...args: Parameters<typeof LoginRegistry>): Promise<void> {
  // Loaded on first use: it needs the registry's error types, which other commands do not.
  const { loginRegistry } = await import("./registry_login.ts");
  return loginRegistry(...args);
}
