/**
 * The engine's read side: what `ps`, `images`, `inspect` and `logs` read
 * (image and container records, their lookup and inspect views), without the
 * runtime, the monitor, the tar or the registry code. A command that only
 * reads imports this module instead of `mod.ts` (which re-exports all of it):
 * every module it loads costs start time, and the first `node:` one ~20 ms.
 *
 * @example
 * ```ts
 * import { ContainerReader, Engine } from "./lib/engine/read.ts";
 * const engine = Engine.open("/var/lib/berth");
 * const reader = new ContainerReader(engine.store, { self: ["berth"], runRoot: "/run/berth" });
 * for (const c of await reader.list()) console.log(c.Name, c.State.Status);
 * ```
 * @module
 */
import { type Store, treeSize } from "../store/mod.ts";
import type { ContainerService, ContainerServiceOptions } from "./containers.ts";
import { type ContainerRecord, ContainerStore, needsReconcile } from "./container_record.ts";

export { Engine } from "./engine.ts";
export { familiarTags, type ImageRecord, type ImageSummary } from "./image_records.ts";
export type { ContainerRecord, ContainerState } from "./container_record.ts";
export { seccompProfileOf } from "./container_record.ts";
export { initialSettings } from "./container_network_view.ts";
export { containerLogPath, filterLogs, type LogEntry, readLogChunk } from "./container_logs.ts";
import { containerLogPath } from "./container_logs.ts";

/**
 * Container records as `ps`, `inspect` and `logs` show them. A record that
 * says running while its monitor is gone goes through the container
 * service's reconcile (loaded then, with the runtime), so a killed monitor
 * is noticed, and restart policies revive, exactly as
 * {@linkcode ContainerService.list} does; the common case reads the records
 * and, for the running ones, their monitor's `/proc/PID/stat`.
 */
export class ContainerReader {
  readonly store: Store;
  readonly records: ContainerStore;
  readonly #options: ContainerServiceOptions;

  constructor(store: Store, options: ContainerServiceOptions) {
    this.store = store;
    this.records = new ContainerStore(store.root, store.tmpDir);
    this.#options = options;
  }

  /** Every container, with dead monitors noticed (and `always` containers revived). */
  async list(): Promise<ContainerRecord[]> {
    const records = this.records.list();
    if (!records.some((r) => needsReconcile(r, this.#options.runRoot))) return records;
    return (await this.#service()).list();
  }

  /** Finds a container by name or ID (prefix). @throws {NotFoundError} */
  async get(given: string): Promise<ContainerRecord> {
    const record = this.records.resolve(given);
    if (!needsReconcile(record, this.#options.runRoot)) return record;
    return (await this.#service()).get(record.Id);
  }

  /** The path of a container's log. */
  logPath(record: ContainerRecord): string {
    return containerLogPath(this.records.path(record.Id), record.Id);
  }

  async #service(): Promise<ContainerService> {
    const { ContainerService } = await import("./containers.ts");
    return new ContainerService(this.store, this.#options);
  }
}

/**
 * A container's sizes as `inspect -s` and `ps -s` show them: `SizeRw`, the
 * files of its writable layer; `SizeRootFs`, those and its image's layers.
 */
export function containerSize(
  reader: Pick<ContainerReader, "store" | "records">,
  record: ContainerRecord,
): { SizeRw: number; SizeRootFs: number } {
  const rw = treeSize(`${reader.records.path(record.Id)}/upper`);
  let image = 0;
  for (const chain of record.Layers) {
    image += reader.store.layers.info(chain as `sha256:${string}`)?.size ?? 0;
  }
  return { SizeRw: rw, SizeRootFs: rw + image };
}
