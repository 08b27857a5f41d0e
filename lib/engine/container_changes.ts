/**
 * A container's changes as a layer: its overlay upper dir without what berth
 * itself put there. `commit` and a build's RUN steps both pack this.
 *
 * @module
 */
import { lgetxattr } from "../../ffi/fs.ts";
import { packUpper } from "../archive/mod.ts";

/** The files berth bind-mounts over and always leaves out of a container's layer. */
const MOUNT_POINTS = ["etc/hostname", "etc/hosts", "etc/resolv.conf"];

/**
 * The layer tar of a container's changes: its upper dir without the mount
 * points for /etc/hosts, /etc/hostname and /etc/resolv.conf, `etc` itself
 * when overlayfs copied it up only to hold them, and the empty files or
 * directories the runtime made only to mount on (as BuildKit removes its
 * mount stubs).
 * @param containerDir the container's directory (`upper/`, `bundle/config.json`)
 * @param lowers its image's extracted layer dirs, top first
 */
export function packChanges(
  containerDir: string,
  lowers: readonly string[],
): ReadableStream<Uint8Array> {
  const upper = `${containerDir}/upper`;
  const exclude = new Set([...engineMade(upper, lowers), ...mountStubs(containerDir, lowers)]);
  return packUpper(upper, { exclude: [...exclude] });
}

/**
 * Archive names in `upper` that berth made, not the container: the mount
 * points, and `etc` itself when overlayfs copied it up only to hold them.
 */
function engineMade(upper: string, lowers: readonly string[]): string[] {
  const out = [...MOUNT_POINTS];
  let names: string[];
  try {
    names = [...Deno.readDirSync(`${upper}/etc`)].map((e) => e.name);
  } catch {
    return out;
  }
  if (!names.every((n) => MOUNT_POINTS.includes(`etc/${n}`))) return out;
  const mine = Deno.lstatSync(`${upper}/etc`);
  const theirs = lowerEntry(lowers, "etc");
  if (
    theirs?.isDirectory && mine.isDirectory && theirs.mode === mine.mode &&
    theirs.uid === mine.uid && theirs.gid === mine.gid && !isOpaque(`${upper}/etc`)
  ) {
    out.push("etc");
  }
  return out;
}

/** What the image's layers (top first) have at `name`, if anything. */
function lowerEntry(lowers: readonly string[], name: string): Deno.FileInfo | undefined {
  for (const dir of lowers) {
    try {
      const info = Deno.lstatSync(`${dir}/${name}`);
      return info.isCharDevice && info.rdev === 0 ? undefined : info;
    } catch {
      // not in this layer
    }
  }
  return undefined;
}

/** An opaque dir hides the lower's contents: a change even when empty. */
function isOpaque(path: string): boolean {
  try {
    const value = lgetxattr(path, "trusted.overlay.opaque");
    return value !== undefined && new TextDecoder().decode(value) === "y";
  } catch {
    return false;
  }
}

/**
 * What the runtime created in the upper dir only to mount on (an empty
 * file or directory no lower layer has, at a mount's destination), and the
 * files the engine provides: left out of the layer, as BuildKit removes its
 * mount stubs.
 */
function mountStubs(containerDir: string, lowers: readonly string[]): string[] {
  const out = new Set(MOUNT_POINTS);
  let mounts: { destination?: string }[] = [];
  try {
    const spec = JSON.parse(Deno.readTextFileSync(`${containerDir}/bundle/config.json`));
    mounts = Array.isArray(spec.mounts) ? spec.mounts : [];
  } catch {
    // no spec: only the engine's files are left out
  }
  for (const { destination } of mounts) {
    if (typeof destination !== "string") continue;
    const rel = destination.replace(/^\/+/, "").replace(/\/+$/, "");
    if (rel === "" || out.has(rel)) continue;
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(`${containerDir}/upper/${rel}`);
    } catch {
      continue;
    }
    const empty = info.isFile
      ? info.size === 0
      : info.isDirectory && [...Deno.readDirSync(`${containerDir}/upper/${rel}`)].length === 0;
    const inLower = lowers.some((l) => {
      try {
        Deno.lstatSync(`${l}/${rel}`);
        return true;
      } catch {
        return false;
      }
    });
    if (empty && !inLower) out.add(rel);
  }
  return [...out];
}
