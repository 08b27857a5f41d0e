/**
 * `docker export`: a tar of a container's merged file system, running or
 * not. Its overlay is mounted read-only on a temp dir with the upper dir as
 * the topmost lower layer: a read-only overlay needs no work dir, so it
 * never shares the running container's upper/work pair, and the tar holds
 * the file system itself, not what is mounted over it inside the container
 * (`/proc`, `/sys`, volumes).
 *
 * @module
 */
import { MNT_DETACH, mount, MS_RDONLY, umount2 } from "../../ffi/mount.ts";
import { packDir } from "../archive/mod.ts";
import { InvalidError } from "../errors.ts";
import { OVERLAY_ANNOTATION } from "../runtime/mod.ts";
import { makeTempDir } from "../store/tmp.ts";

/** The read-only overlay options of a container's root (from its bundle's annotation). */
export function readOnlyOverlay(containerDir: string): string {
  let o: { lowerdir?: unknown; upperdir?: unknown } = {};
  try {
    const spec = JSON.parse(Deno.readTextFileSync(`${containerDir}/bundle/config.json`));
    o = JSON.parse(spec.annotations?.[OVERLAY_ANNOTATION] ?? "{}");
  } catch (error) {
    throw new InvalidError(`Cannot read the root file system of "${containerDir}"`, {
      cause: error,
    });
  }
  const { lowerdir, upperdir } = o;
  if (!Array.isArray(lowerdir) || typeof upperdir !== "string") {
    throw new InvalidError(
      `Invalid config.json in "${containerDir}": annotation "${OVERLAY_ANNOTATION}"`,
    );
  }
  return `lowerdir=${[upperdir, ...lowerdir].join(":")}`;
}

/**
 * Hands the tar of a container's file system to `sink`, and unmounts once
 * the sink is done with it (read to the end, or failed).
 * @param containerDir `<root>/containers/<id>`
 * @param tmpDir the store's tmp dir, where the mount point is made
 */
export async function exportContainer(
  containerDir: string,
  tmpDir: string,
  sink: (tar: ReadableStream<Uint8Array>) => Promise<void>,
): Promise<void> {
  const data = readOnlyOverlay(containerDir);
  const mountPoint = makeTempDir(tmpDir, "-export");
  try {
    mount("overlay", mountPoint, "overlay", MS_RDONLY, data);
    try {
      await sink(packDir(mountPoint, { name: "" }));
    } finally {
      umount2(mountPoint, MNT_DETACH);
    }
  } finally {
    await Deno.remove(mountPoint);
  }
}
