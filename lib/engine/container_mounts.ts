/**
 * A container's mounts as Docker makes them at create: `-v` read with the
 * daemon's grammar, `--mount` (parsed by the front end), `--tmpfs`,
 * `--volumes-from` and the image's `VOLUME` entries, turned into OCI spec
 * mounts and the record's `Mounts`; named volumes are created on first use,
 * anonymous ones made, and a volume mounted empty over a path the image
 * populates gets the image's files first (Docker's copy-up).
 *
 * @module
 */
import { MNT_DETACH, mount, MS_RDONLY, umount2 } from "../../ffi/mount.ts";
// Not ../archive/mod.ts here: tar-stream boots Node compat (~20 ms); copy-up loads it when it runs.
import { cleanName } from "../archive/clean_name.ts";
import { makeTempDir } from "../store/tmp.ts";
import { loadNativeSha256 } from "../digest.ts";
import { EngineError, InvalidError } from "../errors.ts";
import { type Mount, secureJoin } from "../runtime/mod.ts";
import type { ContainerStore, HostConfigView, HostMount, MountPoint } from "./container_record.ts";
import { checkVolumeName, releaseVolumes, VolumeStore } from "./volumes.ts";

/** One mount a container asks for (`-v`, `--mount`, `--tmpfs`), parsed. */
export interface MountRequest {
  type: "bind" | "volume" | "tmpfs";
  /** Host path (bind), volume name (`""`: anonymous), unused for tmpfs. */
  source: string;
  /** Absolute path in the container. */
  target: string;
  readOnly: boolean;
  /** Bind propagation (`rprivate` when unset). */
  propagation?: string;
  /** `volume-nocopy` / `:nocopy`: no copy-up. */
  noCopy?: boolean;
  /** `volume-opt`: driver options for a volume created by this mount. */
  volumeOptions?: Record<string, string>;
  /** tmpfs mount options (`size=…`, `mode=…`, and `--tmpfs`'s own). */
  tmpfsOptions?: string[];
  /** How `-v` spelled the mode (shown as inspect's Mode). */
  mode?: string;
  /** `-v`: a missing bind source is made as a directory; `--mount` refuses it. */
  createSource?: boolean;
  /** `--tmpfs`: not listed in the record's Mounts (Docker keeps those in HostConfig.Tmpfs). */
  unlisted?: boolean;
}

const PROPAGATIONS = ["shared", "slave", "private", "rshared", "rslave", "rprivate"];
const invalidSpec = (raw: string, why?: string) =>
  new InvalidError(`invalid volume specification: '${raw}'${why ? `: ${why}` : ""}`);

/** Whether `mode` is a mode `-v` accepts (Docker's linux parser). */
function checkMode(mode: string): void {
  let rw = 0, label = 0, propagation = 0, copy = 0;
  for (const m of mode.split(",")) {
    if (m === "rw" || m === "ro") rw++;
    else if (m === "z" || m === "Z") label++;
    else if (PROPAGATIONS.includes(m)) propagation++;
    else if (m === "nocopy") copy++;
    else throw new InvalidError(`invalid mode: ${mode}`);
  }
  if (rw > 1 || label > 1 || propagation > 1 || copy > 1) {
    throw new InvalidError(`invalid mode: ${mode}`);
  }
}

function checkTarget(type: string, target: string, raw?: string): void {
  if (!target.startsWith("/")) {
    const why =
      `invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`;
    throw raw === undefined ? new InvalidError(why) : invalidSpec(raw, why);
  }
  if (absolutePath(target) === "/" || /^\/+$/.test(target)) {
    throw new InvalidError("invalid specification: destination can't be '/'");
  }
}

/**
 * `-v` as dockerd reads it: `/host:/ctr[:mode]`, `name:/ctr[:mode]`, `/ctr`.
 * @throws {InvalidError} with Docker's message
 */
export function parseBind(raw: string): MountRequest {
  const parts = raw.split(":");
  if (parts.length > 3 || parts.some((p) => p === "")) throw invalidSpec(raw);
  if (parts.length === 2 && /^[a-zA-Z,]+$/.test(parts[1]!) && !parts[1]!.startsWith("/")) {
    // `/foo:rw`: a destination with a mode and no source.
    let isMode = true;
    try {
      checkMode(parts[1]!);
    } catch {
      isMode = false;
    }
    if (isMode) throw invalidSpec(raw);
  }
  const [source, target, mode] = parts.length === 1 ? ["", parts[0]!, undefined] : parts;
  if (mode !== undefined) checkMode(mode);
  const modes = mode?.split(",") ?? [];
  const type = source === "" ? "volume" : source.startsWith("/") ? "bind" : "volume";
  if (type === "volume" && source !== "") checkVolumeName(source);
  checkTarget(type, target!, raw);
  const propagation = modes.find((m) => PROPAGATIONS.includes(m));
  if (type === "volume" && propagation !== undefined) {
    throw new InvalidError(`invalid mode: ${mode}`);
  }
  return {
    type,
    source: type === "bind" ? absolutePath(source!) : source!,
    target: absolutePath(target!),
    readOnly: modes.includes("ro"),
    ...(propagation ? { propagation } : {}),
    ...(modes.includes("nocopy") ? { noCopy: true } : {}),
    // dockerd shows an anonymous `-v /path` with no mode as "", a named one as "z".
    ...(mode !== undefined ? { mode } : source === "" ? { mode: "" } : {}),
    ...(type === "bind" ? { createSource: true } : {}),
  };
}

/** A size as Docker's RAMInBytes reads it (`64m`, `1g`, `512k`, bytes). */
export function ramInBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text);
  if (m === null) return undefined;
  const unit = "bkmgtp".indexOf((m[2] || "b").toLowerCase());
  return Math.floor(Number(m[1]) * 1024 ** unit);
}

/**
 * `--tmpfs /path[:opts]`: a tmpfs with Docker's defaults (noexec, nosuid, nodev).
 * @throws {InvalidError} for a relative path or a size or mode that does not parse
 */
export function parseTmpfs(raw: string): MountRequest {
  const colon = raw.indexOf(":");
  const target = colon < 0 ? raw : raw.slice(0, colon);
  const opts = colon < 0 ? [] : raw.slice(colon + 1).split(",").filter((o) => o !== "");
  checkTarget("tmpfs", target);
  for (const o of opts) {
    const [key, value = ""] = o.split("=", 2) as [string, string?];
    if (key === "size" && !/%$/.test(value) && ramInBytes(value) === undefined) {
      throw new InvalidError(`invalid tmpfs option "${o}": invalid size: '${value}'`);
    }
    if (key === "mode" && !/^[0-7]{1,4}$/.test(value)) {
      throw new InvalidError(`invalid tmpfs option "${o}": invalid mode: '${value}'`);
    }
  }
  return {
    type: "tmpfs",
    source: "",
    target: absolutePath(target),
    readOnly: opts.includes("ro"),
    tmpfsOptions: opts.filter((o) => o !== "ro" && o !== "rw"),
    unlisted: true,
  };
}

const TMPFS_DEFAULTS = ["nosuid", "nodev", "noexec"];

/** What {@linkcode planMounts} resolved: what the spec mounts, what the record lists. */
export interface MountPlan {
  spec: Mount[];
  points: MountPoint[];
  /** Volumes this create made (removed again if the create fails). */
  created: string[];
}

/** Input to {@linkcode planMounts}. */
export interface MountInput {
  requests: MountRequest[];
  volumesFrom: string[];
  /** The image config's `Volumes`. */
  imageVolumes: Record<string, unknown> | null | undefined;
  /** The image's extracted layers, top first. */
  layers: string[];
  tmpDir: string;
}

/**
 * Checks what can be checked before anything is made: targets, duplicates,
 * bind sources, `--volumes-from` containers.
 * @throws {InvalidError} with Docker's wording
 */
export function checkMounts(input: MountInput, containers: ContainerStore): void {
  const seen = new Set<string>();
  for (const r of input.requests) {
    checkTarget(r.type, r.target);
    if (seen.has(r.target)) throw new InvalidError(`Duplicate mount point: ${r.target}`);
    seen.add(r.target);
    if (r.target === "/proc") {
      // The container's init needs its own procfs there (runc refuses the same).
      const what = r.type === "bind"
        ? r.source
        : r.type === "tmpfs"
        ? "tmpfs"
        : r.source || "volume";
      throw new InvalidError(
        `error mounting "${what}" to rootfs at "/proc": it cannot be mounted because it is not of type proc`,
      );
    }
    if (r.type === "volume" && r.source !== "") checkVolumeName(r.source);
    if (r.type === "bind") {
      if (r.source === "") {
        throw new InvalidError(
          `invalid mount config for type "bind": field Source must not be empty`,
        );
      }
      if (!r.createSource && statOrUndefined(r.source) === undefined) {
        throw new InvalidError(
          `invalid mount config for type "bind": bind source path does not exist: ${r.source}`,
        );
      }
    }
  }
  for (const from of input.volumesFrom) containers.resolve(parseFrom(from).name);
}

function parseFrom(raw: string): { name: string; mode?: "ro" | "rw" } {
  const m = /^([^:]+)(?::(ro|rw))?$/.exec(raw);
  if (m === null) throw new InvalidError(`invalid mode for volumes-from: ${raw.split(":")[1]}`);
  return { name: m[1]!, ...(m[2] ? { mode: m[2] as "ro" | "rw" } : {}) };
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

/** The spec mount of a volume. */
function volumeSpecMount(volumes: VolumeStore, name: string, target: string, ro: boolean): Mount {
  const vm = volumes.mountFor(name);
  const options = [...vm.options];
  if (vm.type === "bind" && !options.includes("rbind") && !options.includes("bind")) {
    options.unshift("rbind");
  }
  if (ro && !options.includes("ro")) options.push("ro");
  return { destination: target, type: vm.type, source: vm.source, options };
}

/**
 * Makes the volumes a container needs and its spec mounts and Mounts list.
 * Run under the store lock. A failure removes the volumes it made.
 * @throws {EngineError} for a bind of a file over an image directory, or a copy-up failure
 */
export async function planMounts(
  input: MountInput,
  volumes: VolumeStore,
  containers: ContainerStore,
): Promise<MountPlan> {
  const plan: MountPlan = { spec: [], points: [], created: [] };
  const targets = new Set(input.requests.map((r) => r.target));
  const requests = [...input.requests];
  const copyUps: { target: string; dir: string }[] = [];
  const fileBinds: { source: string; target: string }[] = [];
  try {
    // --volumes-from: the other container's volumes and binds, at the same places.
    for (const raw of input.volumesFrom) {
      const from = parseFrom(raw);
      const other = containers.resolve(from.name);
      for (const p of other.Mounts ?? []) {
        if (targets.has(p.Destination) || p.Type === "tmpfs") continue;
        targets.add(p.Destination);
        const rw = from.mode === undefined ? p.RW : from.mode === "rw";
        const { Anonymous: _a, ...point } = p;
        plan.points.push({ ...point, RW: rw });
        if (p.Type === "volume") volumes.mountOnHost(p.Name!);
        plan.spec.push(
          p.Type === "volume"
            ? volumeSpecMount(volumes, p.Name!, p.Destination, !rw)
            : bindSpecMount(p.Source, p.Destination, !rw, p.Propagation || "rprivate"),
        );
      }
    }
    // The image's VOLUMEs a mount does not cover: anonymous volumes.
    for (const path of Object.keys(input.imageVolumes ?? {})) {
      const target = absolutePath(path.startsWith("/") ? path : `/${path}`);
      if (targets.has(target)) continue;
      targets.add(target);
      requests.push({ type: "volume", source: "", target, readOnly: false, mode: "" });
    }
    for (const r of requests) {
      if (r.type === "tmpfs") {
        const options = [...TMPFS_DEFAULTS, ...(r.tmpfsOptions ?? [])];
        if (r.readOnly) options.push("ro");
        plan.spec.push({ destination: r.target, type: "tmpfs", source: "tmpfs", options });
        if (!r.unlisted) {
          plan.points.push({
            Type: "tmpfs",
            Source: "",
            Destination: r.target,
            Mode: "",
            RW: !r.readOnly,
            Propagation: "",
          });
        }
        continue;
      }
      if (r.type === "bind") {
        if (r.createSource && statOrUndefined(r.source) === undefined) {
          Deno.mkdirSync(r.source, { recursive: true, mode: 0o755 });
        }
        if (!Deno.statSync(r.source).isDirectory) {
          fileBinds.push({ source: r.source, target: r.target });
        }
        const propagation = r.propagation ?? "rprivate";
        plan.spec.push(bindSpecMount(r.source, r.target, r.readOnly, propagation));
        plan.points.push({
          Type: "bind",
          Source: r.source,
          Destination: r.target,
          Mode: r.mode ?? "",
          RW: !r.readOnly,
          Propagation: propagation,
        });
        continue;
      }
      let name = r.source;
      const anonymous = name === "";
      if (anonymous) {
        name = volumes.create(undefined, {
          labels: { "com.docker.volume.anonymous": "" },
          ...(r.volumeOptions ? { options: r.volumeOptions } : {}),
        }).Name;
        plan.created.push(name);
      } else {
        let exists = true;
        try {
          volumes.get(name);
        } catch {
          exists = false;
        }
        if (!exists) {
          if (r.volumeOptions) volumes.create(name, { options: r.volumeOptions });
          else volumes.ensure(name);
          plan.created.push(name);
        }
      }
      const volume = volumes.get(name);
      volumes.mountOnHost(name);
      const mount = volumeSpecMount(volumes, name, r.target, r.readOnly);
      plan.spec.push(mount);
      if (!r.noCopy && mount.type === "bind" && volumes.isEmpty(name)) {
        copyUps.push({ target: r.target, dir: mount.source! });
      }
      plan.points.push({
        Type: "volume",
        Name: name,
        Source: volume.Mountpoint,
        Destination: r.target,
        Driver: "local",
        Mode: r.mode ?? "z",
        RW: !r.readOnly,
        Propagation: "",
        ...(anonymous ? { Anonymous: true } : {}),
      });
    }
    if (copyUps.length > 0 || fileBinds.length > 0) {
      await withImageRoot(input.layers, input.tmpDir, async (root) => {
        for (const b of fileBinds) {
          const there = secureJoin(root, b.target);
          if (statOrUndefined(there)?.isDirectory) {
            throw new EngineError(
              `error mounting "${b.source}" to rootfs at "${b.target}": not a directory`,
            );
          }
        }
        for (const c of copyUps) await copyUp(root, c.target, c.dir);
      });
    }
  } catch (error) {
    // A tmpfs volume this create mounted on the host, and no container uses: unmounted again.
    releaseVolumes(volumes, { Mounts: plan.points }, containers.list(), { anonymous: false });
    for (const name of plan.created) {
      try {
        volumes.remove(name);
      } catch {
        // already gone
      }
    }
    throw error;
  }
  // Parents before what is mounted inside them.
  const depth = (p: string) => p.split("/").filter((s) => s !== "").length;
  plan.spec.sort((a, b) => depth(a.destination) - depth(b.destination));
  return plan;
}

function bindSpecMount(source: string, target: string, ro: boolean, propagation: string): Mount {
  return {
    destination: target,
    type: "bind",
    source,
    options: ["rbind", ...(ro ? ["ro"] : []), propagation],
  };
}

/**
 * Runs `fn` with a read-only view of the image's file system: its one
 * layer, or an overlay of its layers on a temp dir.
 */
async function withImageRoot<T>(
  layers: string[],
  tmpDir: string,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  if (layers.length === 1) return await fn(layers[0]!);
  Deno.mkdirSync(tmpDir, { recursive: true });
  const mountPoint = makeTempDir(tmpDir, "-copyup");
  try {
    mount("overlay", mountPoint, "overlay", MS_RDONLY, `lowerdir=${layers.join(":")}`);
    try {
      return await fn(mountPoint);
    } finally {
      umount2(mountPoint, MNT_DETACH);
    }
  } finally {
    Deno.removeSync(mountPoint);
  }
}

/**
 * Docker's copy-up: the image's files at `target` (resolved inside the
 * image's root, never following a link out of it) into the empty volume
 * dir `dir`, with their owners, modes and symlinks.
 */
async function copyUp(root: string, target: string, dir: string): Promise<void> {
  const path = secureJoin(root, target);
  if (path === root.replace(/\/+$/, "")) return; // a link to the root: the mount is refused
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return; // the image has nothing there
  }
  if (!info.isDirectory) return;
  await loadNativeSha256();
  const { applyLayer, packDir } = await import("../archive/mod.ts");
  await applyLayer(packDir(path, { name: "" }), dir, { copy: { shownAs: target } });
  // The volume's root takes the image directory's owner and mode, as Docker's.
  Deno.chownSync(dir, info.uid, info.gid);
  Deno.chmodSync(dir, info.mode! & 0o7777);
}

/** An absolute path without empty, `.` or `..` components (`..` stops at `/`). */
function absolutePath(path: string): string {
  return `/${cleanName(path)}`;
}

/**
 * What `docker inspect` shows of a container's mount flags: HostConfig's
 * Binds (`-v` with a source), VolumesFrom, Mounts (`--mount`) and Tmpfs,
 * and the container paths of anonymous `-v` volumes (Config.Volumes).
 */
export function mountFlagsView(
  flags: { binds?: string[]; mounts?: MountRequest[]; tmpfs?: string[]; volumesFrom?: string[] },
): {
  host: Pick<HostConfigView, "Binds" | "VolumesFrom" | "Mounts" | "Tmpfs">;
  anonymous: string[];
} {
  const binds = (flags.binds ?? []).filter((b) => parseBind(b).source !== "");
  const anonymous = (flags.binds ?? []).map(parseBind).filter((r) => r.source === "")
    .map((r) => r.target);
  const mounts = (flags.mounts ?? []).map(hostMount);
  const tmpfs = Object.fromEntries((flags.tmpfs ?? []).map((t) => {
    const colon = t.indexOf(":");
    return colon < 0 ? [t, ""] : [t.slice(0, colon), t.slice(colon + 1)];
  }));
  return {
    host: {
      Binds: binds.length > 0 ? binds : null,
      VolumesFrom: flags.volumesFrom?.length ? flags.volumesFrom : null,
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      ...(Object.keys(tmpfs).length > 0 ? { Tmpfs: tmpfs } : {}),
    },
    anonymous,
  };
}

/** A `--mount` in Docker's mount.Mount shape (empty fields left out, as Docker's JSON does). */
function hostMount(r: MountRequest): HostMount {
  const option = (key: string) =>
    r.tmpfsOptions?.find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1);
  const size = option("size");
  const mode = option("mode");
  const tmpfs = {
    ...(size !== undefined ? { SizeBytes: Number(size) } : {}),
    ...(mode !== undefined ? { Mode: Number.parseInt(mode, 8) } : {}),
  };
  return {
    Type: r.type,
    ...(r.source !== "" ? { Source: r.source } : {}),
    Target: r.target,
    ...(r.readOnly ? { ReadOnly: true } : {}),
    ...(r.type === "bind" && r.propagation ? { BindOptions: { Propagation: r.propagation } } : {}),
    ...(r.noCopy || r.volumeOptions
      ? {
        VolumeOptions: {
          ...(r.noCopy ? { NoCopy: true } : {}),
          ...(r.volumeOptions ? { DriverConfig: { Options: r.volumeOptions } } : {}),
        },
      }
      : {}),
    ...(Object.keys(tmpfs).length > 0 ? { TmpfsOptions: tmpfs } : {}),
  };
}

/**
 * Mounts on the host what the volumes of `record` need there before it
 * starts (the shared tmpfs of a tmpfs volume; again after a reboot).
 */
export function prepareVolumes(
  containers: ContainerStore,
  record: { Mounts?: readonly MountPoint[] },
): void {
  const volumes = (record.Mounts ?? []).filter((m) => m.Type === "volume" && m.Name);
  if (volumes.length === 0) return;
  const store = new VolumeStore(containers.root, containers.tmpDir);
  for (const m of volumes) store.mountOnHost(m.Name!);
}
