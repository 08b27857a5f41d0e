/**
 * The networks of a store root: one file `<root>/networks/<id>.json` per
 * network, written to `tmp/` and renamed into place. Every change (create,
 * remove, prune, a lease) reads, decides and writes under the store's lock
 * (`<root>/lock`), so two processes never pick one subnet or one address.
 *
 * @module
 */
import { ConflictError, NotFoundError } from "../../errors.ts";
import { withLock } from "../../store/lock.ts";
import { writeFileAtomic } from "../../store/tmp.ts";
import { type NetworkCreateOptions, planNetwork, planPredefined } from "./create.ts";
import { allocateIn, type AllocateOptions, releaseIn } from "./ipam.ts";
import { type Cidr, hostRoutes } from "./ipv4.ts";
import { type Endpoint, isPredefined, type NetworkRecord, PREDEFINED } from "./record.ts";
import { recordEvent } from "../events.ts";

/** How a {@linkcode NetworkStore} is set up. */
export interface NetworkStoreOptions {
  /**
   * The host's routes, which automatic subnets avoid.
   * @default the routes of `/proc/net/route`
   */
  routes?: () => Cidr[];
  /**
   * Runs a function under the store's lock. A caller that already holds that
   * lock (flock(2) locks conflict between two opens in one process too) passes
   * `(fn) => Promise.resolve(fn())`.
   * @default flock(2) of `<root>/lock`
   */
  locked?: <T>(fn: () => Promise<T> | T) => Promise<T>;
}

const ID_RE = /^[0-9a-f]{64}$/;

/** The networks of one store root. */
export class NetworkStore {
  readonly dir: string;
  readonly tmpDir: string;
  #routes: () => Cidr[];
  #root: string;
  #locked: <T>(fn: () => Promise<T> | T) => Promise<T>;

  constructor(root: string, tmpDir: string, options: NetworkStoreOptions = {}) {
    this.dir = `${root}/networks`;
    this.#root = root;
    this.tmpDir = tmpDir;
    this.#routes = options.routes ?? (() => hostRoutes());
    this.#locked = options.locked ?? ((fn) => withLock(`${root}/lock`, fn));
  }

  /** Every network, by name; the predefined ones are made on first use. */
  async list(): Promise<NetworkRecord[]> {
    let records = this.#readAll();
    const missing = PREDEFINED.some((name) => !records.some((r) => r.Name === name));
    if (missing) records = await this.#locked(() => this.#all());
    return records.sort((a, b) => a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0);
  }

  /**
   * A network by full ID, name, or a unique ID prefix (Docker's order).
   * @throws {NotFoundError} `No such network: X`
   * @throws {ConflictError} an ID prefix that several networks share
   */
  async get(ref: string): Promise<NetworkRecord> {
    return find(await this.list(), ref);
  }

  /**
   * `network create`: a new bridge network, its subnet chosen when not given.
   * @throws {InvalidError} {ConflictError} {NotFoundError} see {@linkcode planNetwork}
   */
  create(name: string, options: NetworkCreateOptions = {}): Promise<NetworkRecord> {
    return this.#locked(() => {
      const record = planNetwork(name, options, this.#all(), this.#routes());
      this.#write(record);
      this.#event("create", record);
      return record;
    });
  }

  /**
   * Removes a network that no container is attached to.
   * @throws {NotFoundError} `No such network: X`
   * @throws {ConflictError} a predefined network, or one with endpoints (Docker's messages)
   */
  remove(ref: string): Promise<NetworkRecord> {
    return this.#locked(() => {
      const record = find(this.#all(), ref);
      if (isPredefined(record.Name)) {
        throw new ConflictError(`${record.Name} is a pre-defined network and cannot be removed`);
      }
      if (Object.keys(record.Containers).length > 0) {
        throw new ConflictError(
          `error while removing network: network ${record.Name} id ${record.Id} has active endpoints`,
        );
      }
      this.#delete(record.Id);
      this.#event("destroy", record);
      return record;
    });
  }

  /**
   * `network prune`: removes every user-defined network without endpoints
   * that `keep` does not keep.
   * @returns the removed networks
   */
  prune(keep: (record: NetworkRecord) => boolean = () => false): Promise<NetworkRecord[]> {
    return this.#locked(() => {
      const doomed = this.#all().filter((r) =>
        !isPredefined(r.Name) && Object.keys(r.Containers).length === 0 && !keep(r)
      );
      for (const r of doomed) this.#delete(r.Id);
      for (const r of doomed) this.#event("destroy", r);
      return doomed.sort((a, b) => a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0);
    });
  }

  /**
   * Leases an address on a network for a container, persisted before it returns.
   * Joining again returns the same endpoint.
   * @throws {NotFoundError} `No such network: X`
   * @throws {InvalidError} {ConflictError} see {@linkcode allocateIn}
   */
  allocate(ref: string, containerId: string, options: AllocateOptions = {}): Promise<Endpoint> {
    return this.#locked(() => {
      const record = find(this.#all(), ref);
      const had = record.Containers[containerId];
      const endpoint = allocateIn(record, containerId, options);
      if (had === undefined) this.#write(record);
      if (had === undefined) this.#event("connect", record, containerId);
      return endpoint;
    });
  }

  /**
   * Ends a container's lease on a network (nothing when it has none, or the network is gone).
   * @returns whether there was a lease
   */
  release(ref: string, containerId: string): Promise<boolean> {
    return this.#locked(() => {
      let record: NetworkRecord;
      try {
        record = find(this.#all(), ref);
      } catch (error) {
        if (error instanceof NotFoundError) return false;
        throw error;
      }
      if (!releaseIn(record, containerId)) return false;
      this.#write(record);
      this.#event("disconnect", record, containerId);
      return true;
    });
  }

  /**
   * Ends a container's leases on every network (its removal).
   * @returns the names of the networks it was on
   */
  releaseContainer(containerId: string): Promise<string[]> {
    return this.dropLeases((id) => id === containerId);
  }

  /**
   * Ends every lease that `gone` says belongs to a container that no longer
   * exists: what a `kill -9` in the middle of a removal leaves behind.
   * @returns the names of the networks that had such leases
   */
  dropLeases(gone: (containerId: string) => boolean): Promise<string[]> {
    return this.#locked(() => {
      const touched: string[] = [];
      for (const record of this.#all()) {
        const doomed = Object.keys(record.Containers).filter(gone);
        if (doomed.length === 0) continue;
        for (const id of doomed) releaseIn(record, id);
        this.#write(record);
        for (const id of doomed) this.#event("disconnect", record, id);
        touched.push(record.Name);
      }
      return touched.sort();
    });
  }

  /** Every record, the missing predefined ones written first (call under the lock). */
  /** Records a network event (Docker's attributes: name, type, the container). */
  #event(action: string, record: NetworkRecord, container?: string): void {
    const attributes = {
      ...(container ? { container } : {}),
      name: record.Name,
      type: record.Driver,
    };
    recordEvent(this.#root, "network", action, record.Id, attributes);
  }

  #all(): NetworkRecord[] {
    const records = this.#readAll();
    const missing = planPredefined(records, this.#routes());
    for (const r of missing) this.#write(r);
    return [...records, ...missing];
  }

  #readAll(): NetworkRecord[] {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.dir)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    const out: NetworkRecord[] = [];
    for (const entry of entries) {
      const id = entry.name.endsWith(".json") ? entry.name.slice(0, -5) : "";
      if (!entry.isFile || !ID_RE.test(id)) continue;
      let text: string;
      try {
        text = Deno.readTextFileSync(`${this.dir}/${entry.name}`);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) continue; // removed meanwhile
        throw error;
      }
      const record = JSON.parse(text) as NetworkRecord;
      if (record.Id === id) out.push(record);
    }
    return out;
  }

  #write(record: NetworkRecord): void {
    Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    Deno.mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    writeFileAtomic(
      `${this.dir}/${record.Id}.json`,
      `${JSON.stringify(record, null, 2)}\n`,
      this.tmpDir,
    );
  }

  #delete(id: string): void {
    try {
      Deno.removeSync(`${this.dir}/${id}.json`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

/**
 * Docker's lookup: full ID, then exact name, then ID prefix.
 * @throws {NotFoundError} `No such network: X`
 * @throws {ConflictError} an ambiguous ID prefix
 */
export function find(records: readonly NetworkRecord[], ref: string): NetworkRecord {
  const byId = records.find((r) => r.Id === ref);
  if (byId !== undefined) return byId;
  const byName = records.find((r) => r.Name === ref);
  if (byName !== undefined) return byName;
  const byPrefix = ref === "" ? [] : records.filter((r) => r.Id.startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) {
    throw new ConflictError(
      `network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`,
    );
  }
  throw new NotFoundError(`No such network: ${ref}`);
}
