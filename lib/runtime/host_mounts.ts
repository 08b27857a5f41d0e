/**
 * A container without a mount namespace of its own (`linux.namespaces`
 * lists none, so it shares the caller's, as the runtime-spec says) has its
 * rootfs and every mount under it in the host's mount table: create notes
 * how many mounts the rootfs path had before, and delete (or a failed
 * create) detaches what was stacked there since.
 *
 * @module
 */
import { MNT_DETACH, umount2 } from "../../ffi/mount.ts";
import type { Spec } from "./spec.ts";

/** The rootfs of a container that shares the host's mount namespace. */
export interface HostMounts {
  /** The rootfs, symlinks resolved, as /proc/self/mountinfo names it. */
  path: string;
  /** Mounts at `path` before create (a user's own stay). */
  base: number;
}

/** Whether the spec gives the container a mount namespace (new or joined). */
export const ownsMountNamespace = (spec: Spec): boolean =>
  spec.linux?.namespaces?.some((n) => n.type === "mount") ?? false;

/** Mounts whose mount point is exactly `path`. */
function mountsAt(path: string): number {
  const escaped = path.replace(
    /[ \t\n\\]/g,
    (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`,
  );
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .filter((line) => line.split(" ")[4] === escaped).length;
}

/** Notes the rootfs's mounts before create, for a spec without a mount namespace. */
export function noteHostMounts(spec: Spec, rootfs: string): HostMounts | undefined {
  if (ownsMountNamespace(spec)) return undefined;
  const path = Deno.realPathSync(rootfs);
  return { path, base: mountsAt(path) };
}

/**
 * Detaches what create stacked on the rootfs (MNT_DETACH takes the mounts
 * under it too), leaving the `base` mounts that were there before.
 */
export function releaseHostMounts(mounts: HostMounts): void {
  for (let n = mountsAt(mounts.path); n > mounts.base; n--) umount2(mounts.path, MNT_DETACH);
}
