/**
 * The `cgroup` mount of Docker's default spec: the container's own cgroups
 * at /sys/fs/cgroup. On a v2 host one cgroup2 mount; on a v1 host a tmpfs
 * with one mount per hierarchy, as runc does. Mounted after the cgroup
 * namespace is entered, so each shows the container's cgroup as its root.
 *
 * @module
 */
import {
  mount,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REMOUNT,
  parseMountOptions,
} from "../../ffi/mount.ts";
import { secureJoin } from "./secure_join.ts";
import type { Mount } from "./spec.ts";

/** v1 hierarchies from /proc/self/cgroup: the mount data and the directory name of each. */
function v1Hierarchies(): { data: string; dir: string }[] {
  const out: { data: string; dir: string }[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/cgroup").split("\n")) {
    const controllers = line.split(":")[1];
    if (controllers === undefined || controllers === "") continue;
    if (controllers.startsWith("name=")) {
      out.push({ data: `none,${controllers}`, dir: controllers.slice(5) });
    } else {
      out.push({ data: controllers, dir: controllers });
    }
  }
  return out;
}

/** Mounts the container's cgroups at the mount's destination under `rootfs`. */
export function mountCgroups(m: Mount, rootfs: string): void {
  const target = secureJoin(rootfs, m.destination);
  Deno.mkdirSync(target, { recursive: true });
  const { flags } = parseMountOptions(m.options ?? []);
  const base = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  let v2 = false;
  try {
    Deno.statSync("/sys/fs/cgroup/cgroup.controllers");
    v2 = true;
  } catch {
    // v1 or hybrid
  }
  if (v2) {
    mount("cgroup2", target, "cgroup2", base);
    return;
  }
  mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
  for (const h of v1Hierarchies()) {
    const dir = `${target}/${h.dir}`;
    Deno.mkdirSync(dir, { recursive: true });
    mount("cgroup", dir, "cgroup", base, h.data);
    // cpu,cpuacct: also reachable as cpu and cpuacct, as on the host.
    if (h.dir.includes(",")) {
      for (const part of h.dir.split(",")) {
        try {
          Deno.symlinkSync(h.dir, `${target}/${part}`);
        } catch {
          // exists
        }
      }
    }
  }
  if ((flags & MS_RDONLY) !== 0) {
    mount(null, target, null, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  }
}
