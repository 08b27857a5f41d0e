/**
 * Volumes: data that outlives containers, as Docker's `local` driver keeps
 * it. Each volume is a directory `<root>/volumes/<name>/` holding `_data`
 * (what containers see, the Mountpoint) and `volume.json` beside it (its
 * name, labels, options, creation time). A volume appears in one rename:
 * it is laid out under `<root>/tmp` first, so a reader never sees half a
 * volume, and a removal renames it away before deleting.
 *
 * The local driver's options are Docker's: `-o type=tmpfs,device=tmpfs,o=size=64m`
 * (a tmpfs mounted for each container), `-o type=none,o=bind,device=/path`
 * (a bind of an existing host directory); no options is a plain directory.
 *
 * @example
 * ```ts
 * import { VolumeStore } from "./lib/engine/volumes.ts";
 * const volumes = new VolumeStore("/var/lib/berth", "/var/lib/berth/tmp");
 * const v = volumes.create("data", { labels: { app: "web" } });
 * console.log(v.Mountpoint); // /var/lib/berth/volumes/data/_data
 * ```
 * @module
 */
import {
  MNT_DETACH,
  mount,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_SYNCHRONOUS,
  umount2,
} from "../../ffi/mount.ts";
import { ConflictError, InvalidError, NotFoundError } from "../errors.ts";
import { tempPath, writeFileAtomic } from "../store/tmp.ts";
import { treeSize } from "../store/mod.ts";
import { recordEvent } from "./events.ts";

/** A volume as `docker volume inspect` shows it. */
export interface VolumeRecord {
  Name: string;
  Driver: "local";
  /** `${root}/volumes/${Name}/_data` */
  Mountpoint: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: "local";
  /** RFC 3339, as Docker. */
  CreatedAt: string;
}

/** How a container mounts a volume (what the spec's mount entry needs). */
export interface VolumeMount {
  source: string;
  type: "bind" | "tmpfs";
  options: string[];
}

/** What `volume create` may set. */
export interface VolumeCreateOptions {
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/**
 * The label Docker (23+) puts on a container's anonymous volumes: `volume
 * prune` without `-a` removes only volumes that carry it. Pass it to
 * {@linkcode VolumeStore.create} (value `""`) for an anonymous volume.
 */
export const ANONYMOUS_LABEL = "com.docker.volume.anonymous";

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const META = "volume.json";

/**
 * Docker's volume name grammar `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, so that no name
 * reaches outside `volumes/`.
 * @throws {InvalidError} Docker's message, `create NAME: "NAME" includes invalid characters ...`
 */
export function checkVolumeName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new InvalidError(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
  return name;
}

/** Docker's RFC 3339 time at second precision (`2026-12-08T02:40:00Z`). */
function rfc3339(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function randomVolumeName(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

const TMPFS_SIZE_RE = /^\d+[kmgKMG]?$|^\d+%$/;
const TMPFS_COUNT_RE = /^\d+[kmgKMG]?$/;
const TMPFS_FLAGS = new Set([
  "ro",
  "rw",
  "nosuid",
  "suid",
  "nodev",
  "dev",
  "noexec",
  "exec",
  "sync",
  "async",
  "noatime",
  "atime",
  "nodiratime",
  "diratime",
  "relatime",
  "norelatime",
  "strictatime",
]);
const BIND_FLAGS = new Set([
  "bind",
  "rbind",
  "ro",
  "rw",
  "shared",
  "rshared",
  "slave",
  "rslave",
  "private",
  "rprivate",
]);

function splitO(o: string | undefined): string[] {
  return (o ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * Checks the local driver's options as Docker does (`invalid option: "x"`,
 * `missing required option: "type"`), and what berth can mount: a tmpfs with
 * sizes that parse, or a bind of an absolute, existing host directory.
 * @throws {InvalidError} the reason, after `create NAME: `
 */
function checkOptions(name: string, options: Record<string, string>): void {
  const fail = (reason: string): never => {
    throw new InvalidError(`create ${name}: ${reason}`);
  };
  for (const key of Object.keys(options)) {
    if (!["type", "device", "o", "size"].includes(key)) fail(`invalid option: "${key}"`);
  }
  if ("size" in options) fail("quota size requested but no quota support");
  // Docker's mandatory pairs: device needs type, type needs device, o needs both.
  const required: [string, string[]][] = [
    ["device", ["type"]],
    ["type", ["device"]],
    ["o", ["device", "type"]],
  ];
  for (const [key, needs] of required) {
    if (!(key in options)) continue;
    for (const need of needs) if (!(need in options)) fail(`missing required option: "${need}"`);
  }
  const type = options.type;
  if (type === undefined) return;
  const o = splitO(options.o);
  if (type === "tmpfs") {
    for (const opt of o) {
      const eq = opt.indexOf("=");
      const key = eq < 0 ? opt : opt.slice(0, eq);
      const value = eq < 0 ? "" : opt.slice(eq + 1);
      const ok = eq < 0
        ? TMPFS_FLAGS.has(key)
        : key === "size"
        ? TMPFS_SIZE_RE.test(value)
        : key === "nr_blocks" || key === "nr_inodes"
        ? TMPFS_COUNT_RE.test(value)
        : key === "mode"
        ? /^[0-7]{1,4}$/.test(value)
        : key === "uid" || key === "gid"
        ? /^\d+$/.test(value)
        : false;
      if (!ok) {
        fail(
          eq < 0 || !["size", "nr_blocks", "nr_inodes", "mode", "uid", "gid"].includes(key)
            ? `invalid tmpfs option "${opt}"`
            : `invalid tmpfs ${key}: "${value}"`,
        );
      }
    }
    return;
  }
  if (type === "none") {
    if (!o.includes("bind") && !o.includes("rbind")) {
      fail(`type "none" needs o=bind (a bind mount of device)`);
    }
    for (const opt of o) if (!BIND_FLAGS.has(opt)) fail(`invalid bind option "${opt}"`);
    const device = options.device!;
    if (!device.startsWith("/")) fail(`device "${device}" is not an absolute path`);
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(device);
    } catch {
      return fail(`device "${device}": no such file or directory`);
    }
    if (!info.isDirectory) fail(`device "${device}" is not a directory`);
    return;
  }
  fail(
    `volume type "${type}" is not supported by the local driver here (tmpfs, or none with o=bind)`,
  );
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => b[k] === a[k]);
}

/** What `volume.json` holds (the Mountpoint follows from the root). */
type StoredVolume = Omit<VolumeRecord, "Mountpoint">;

/** The volumes of a store root (`<root>/volumes`). */
/** Docker's attributes of a volume event. */
const DRIVER = { driver: "local" };

export class VolumeStore {
  readonly dir: string;
  readonly tmpDir: string;

  constructor(root: string, tmpDir: string) {
    this.dir = `${root}/volumes`;
    this.tmpDir = tmpDir;
  }

  /** The directory of a volume (its `_data` and `volume.json`). */
  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  /**
   * `volume create`: a random 64-hex name when none is given. An existing
   * name is returned as it is (Docker) unless other `-o` options are asked
   * for, which is a conflict.
   * @throws {NotFoundError} a driver other than `local` (Docker's plugin message)
   * @throws {InvalidError} a bad name or option
   * @throws {ConflictError} the name exists with other options
   */
  create(name?: string, options: VolumeCreateOptions = {}): VolumeRecord {
    const wanted = name === undefined || name === "" ? randomVolumeName() : checkVolumeName(name);
    const driver = options.driver ?? "local";
    if (driver !== "local") {
      throw new NotFoundError(
        `create ${wanted}: error looking up volume plugin ${driver}: plugin "${driver}" not found`,
      );
    }
    const opts = { ...(options.options ?? {}) };
    checkOptions(wanted, opts);
    const existing = this.#read(wanted);
    if (existing !== undefined) return this.#existing(existing, opts);
    const stored: StoredVolume = {
      Name: wanted,
      Driver: "local",
      Labels: { ...(options.labels ?? {}) },
      Options: opts,
      Scope: "local",
      CreatedAt: rfc3339(),
    };
    for (const dir of [this.dir, this.tmpDir]) Deno.mkdirSync(dir, { recursive: true });
    Deno.chmodSync(this.dir, 0o701);
    // Laid out in tmp/ and renamed into place: the volume appears whole or not at all.
    const staging = tempPath(this.tmpDir, ".volume");
    try {
      Deno.mkdirSync(`${staging}/_data`, { recursive: true });
      Deno.chmodSync(staging, 0o755);
      Deno.chmodSync(`${staging}/_data`, 0o755);
      writeFileAtomic(`${staging}/${META}`, `${JSON.stringify(stored, null, 2)}\n`, this.tmpDir);
      Deno.renameSync(staging, this.path(wanted));
      recordEvent(this.dir.slice(0, -"/volumes".length), "volume", "create", wanted, DRIVER);
    } catch (error) {
      try {
        Deno.removeSync(staging, { recursive: true });
      } catch {
        // not made
      }
      // Another process made it first: theirs is the volume.
      const raced = this.#read(wanted);
      if (raced !== undefined) return this.#existing(raced, opts);
      throw error;
    }
    return this.#view(stored);
  }

  #existing(existing: StoredVolume, opts: Record<string, string>): VolumeRecord {
    if (Object.keys(opts).length > 0 && !sameRecord(existing.Options, opts)) {
      throw new ConflictError(
        `create ${existing.Name}: volume name must be unique: it exists with other options`,
      );
    }
    return this.#view(existing);
  }

  /**
   * A volume by its name.
   * @throws {NotFoundError} `No such volume: NAME`
   */
  get(name: string): VolumeRecord {
    const stored = NAME_RE.test(name) ? this.#read(name) : undefined;
    if (stored === undefined) throw new NotFoundError(`No such volume: ${name}`);
    return this.#view(stored);
  }

  /** Whether a volume of this name exists. */
  has(name: string): boolean {
    return NAME_RE.test(name) && this.#read(name) !== undefined;
  }

  /**
   * The named volume of `-v NAME:/path` / `--mount type=volume`: created on
   * first use, as Docker does.
   * @throws {InvalidError} a bad name
   */
  ensure(name: string): VolumeRecord {
    checkVolumeName(name);
    const stored = this.#read(name);
    return stored === undefined ? this.create(name) : this.#view(stored);
  }

  /** Every volume, by name (entries that are not whole volumes are skipped). */
  list(): VolumeRecord[] {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.dir)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    const out: VolumeRecord[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory || !NAME_RE.test(entry.name)) continue;
      const stored = this.#read(entry.name);
      if (stored !== undefined) out.push(this.#view(stored));
    }
    return out.sort((a, b) => a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0);
  }

  /**
   * Removes a volume and its data (a bind volume's host directory stays).
   * The caller has checked that no container uses it.
   * @throws {NotFoundError} `No such volume: NAME`
   */
  remove(name: string): void {
    this.get(name);
    this.unmountOnHost(name);
    // Renamed out of volumes/ first, so nobody sees a half-deleted volume.
    Deno.mkdirSync(this.tmpDir, { recursive: true });
    const doomed = tempPath(this.tmpDir, ".volume");
    try {
      Deno.renameSync(this.path(name), doomed);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw new NotFoundError(`No such volume: ${name}`);
      throw error;
    }
    Deno.removeSync(doomed, { recursive: true });
    recordEvent(this.dir.slice(0, -"/volumes".length), "volume", "destroy", name, DRIVER);
  }

  /**
   * How to mount a volume: its `_data` directory as an `rbind`; for
   * `type=tmpfs` a tmpfs with the `o` options; for `type=none,o=bind` a bind
   * of the `device` directory.
   * @throws {NotFoundError} `No such volume: NAME`
   */
  mountFor(name: string): VolumeMount {
    const v = this.get(name);
    const o = splitO(v.Options.o);
    // A tmpfs volume is one tmpfs on the host (see mountOnHost) that its containers share.
    if (v.Options.type === "tmpfs") {
      return { source: v.Mountpoint, type: "bind", options: ["rbind"] };
    }
    if (v.Options.type === "none") {
      const bind = o.includes("rbind") ? "rbind" : "bind";
      return {
        source: v.Options.device!,
        type: "bind",
        options: [bind, ...o.filter((x) => x !== "bind" && x !== "rbind")],
      };
    }
    return { source: v.Mountpoint, type: "bind", options: ["rbind"] };
  }

  /**
   * Whether the directory that holds a volume's data is empty, so that a
   * container's first mount copies the image's files in (Docker's copy-up):
   * true for a fresh volume. A tmpfs volume starts empty in each container and
   * has no host directory to copy into: false.
   * @throws {NotFoundError} `No such volume: NAME`
   */
  isEmpty(name: string): boolean {
    const mount = this.mountFor(name);
    for (const _ of Deno.readDirSync(mount.source)) return false;
    return true;
  }

  /**
   * Mounts a `type=tmpfs` volume's tmpfs on its `_data`, once: the
   * containers that use it bind that directory, so they share one tmpfs, as
   * with Docker's local driver. Containers made or started mount it (after a
   * reboot too); it stays while any container record uses it (see
   * {@linkcode releaseVolumes}). Other volumes need nothing.
   * @throws {SyscallError} when the mount fails
   */
  mountOnHost(name: string): void {
    const v = this.get(name);
    if (v.Options.type !== "tmpfs") return;
    const lock = Deno.openSync(`${this.path(name)}/.mount.lock`, { create: true, write: true });
    try {
      lock.lockSync(true);
      if (isMountPoint(v.Mountpoint)) return;
      let flags = 0;
      const data: string[] = [];
      for (const opt of splitO(v.Options.o)) {
        const flag = TMPFS_FLAG_BITS[opt];
        if (flag !== undefined) flags |= flag;
        else if (opt.includes("=")) data.push(opt);
      }
      mount(v.Options.device ?? "tmpfs", v.Mountpoint, "tmpfs", flags, data.join(","));
    } finally {
      lock.close();
    }
  }

  /** Unmounts a `type=tmpfs` volume's host tmpfs, if it is mounted. */
  unmountOnHost(name: string): void {
    const mountpoint = `${this.path(name)}/_data`;
    if (isMountPoint(mountpoint)) umount2(mountpoint, MNT_DETACH);
  }

  /** Bytes the volume's own `_data` holds (what removing it frees; 0 for tmpfs and bind volumes). */
  size(name: string): number {
    const v = this.get(name);
    if (v.Options.type !== undefined) return 0;
    return treeSize(v.Mountpoint);
  }

  #read(name: string): StoredVolume | undefined {
    let text: string;
    try {
      text = Deno.readTextFileSync(`${this.path(name)}/${META}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        return undefined;
      }
      throw error;
    }
    const stored = JSON.parse(text) as StoredVolume;
    return stored.Name === name ? stored : undefined;
  }

  #view(stored: StoredVolume): VolumeRecord {
    return {
      CreatedAt: stored.CreatedAt,
      Driver: "local",
      Labels: stored.Labels ?? {},
      Mountpoint: `${this.path(stored.Name)}/_data`,
      Name: stored.Name,
      Options: stored.Options ?? {},
      Scope: "local",
    };
  }
}

/** The part of a container record that says which volumes it mounts. */
export interface VolumeUser {
  Id: string;
  Mounts?: readonly { Type: string; Name?: string }[];
}

/**
 * Which containers use each volume: a volume is in use while any container
 * record, running or not, has a `volume` mount of it.
 * @returns volume name -> IDs of the containers that mount it
 */
export function volumeUsers(records: readonly VolumeUser[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const record of records) {
    for (const mount of record.Mounts ?? []) {
      if (mount.Type !== "volume" || mount.Name === undefined) continue;
      const ids = users.get(mount.Name) ?? [];
      if (!ids.includes(record.Id)) ids.push(record.Id);
      users.set(mount.Name, ids);
    }
  }
  return users;
}

/**
 * Removes a volume unless a container uses it.
 * @throws {ConflictError} Docker's `remove NAME: volume is in use - [ID, ...]`
 * @throws {NotFoundError} `No such volume: NAME`
 */
export function removeUnused(
  volumes: VolumeStore,
  name: string,
  users: ReadonlyMap<string, readonly string[]>,
): void {
  volumes.get(name);
  const ids = users.get(name) ?? [];
  if (ids.length > 0) {
    throw new ConflictError(`remove ${name}: volume is in use - [${ids.join(", ")}]`);
  }
  volumes.remove(name);
}

/** The mount flags among a tmpfs volume's `o` options (the others are tmpfs's own data). */
const TMPFS_FLAG_BITS: Record<string, number> = {
  ro: MS_RDONLY,
  nosuid: MS_NOSUID,
  nodev: MS_NODEV,
  noexec: MS_NOEXEC,
  sync: MS_SYNCHRONOUS,
  noatime: MS_NOATIME,
  nodiratime: MS_NODIRATIME,
};

/** Whether `path` is a mount point in this process's mount namespace. */
function isMountPoint(path: string): boolean {
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch {
    return false;
  }
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    // Field 5 is the mount point, with spaces and the like octal-escaped.
    const point = line.split(" ")[4];
    if (point !== undefined && unescapeMountinfo(point) === real) return true;
  }
  return false;
}

function unescapeMountinfo(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/**
 * After a container is removed: its anonymous volumes go unless another
 * container still mounts them (`rm -v`, `--rm`; named volumes stay, as in
 * Docker), and the host tmpfs of a tmpfs volume no remaining container uses
 * is unmounted.
 * @param gone the removed container's record
 * @param remaining every container record left
 * @param options.anonymous remove its anonymous volumes
 */
export function releaseVolumes(
  volumes: VolumeStore,
  gone: { Mounts?: readonly { Type: string; Name?: string; Anonymous?: boolean }[] },
  remaining: readonly VolumeUser[],
  options: { anonymous: boolean },
): void {
  const users = volumeUsers(remaining);
  for (const m of gone.Mounts ?? []) {
    if (m.Type !== "volume" || m.Name === undefined || users.has(m.Name)) continue;
    try {
      if (options.anonymous && m.Anonymous) volumes.remove(m.Name);
      else volumes.unmountOnHost(m.Name);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
}
