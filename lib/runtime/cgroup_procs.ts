/**
 * Moving a process into a cgroup, apart from cgroup.ts (which makes cgroups
 * and writes limits) so that `exec` loads only this before its init runs.
 *
 * @module
 */
import type { Cgroup } from "./cgroup.ts";

/** Adds a process to every directory of the cgroup. */
export function joinCgroup(cg: Cgroup, pid: number): void {
  for (const dir of Object.values(cg.dirs)) {
    Deno.writeTextFileSync(`${dir}/cgroup.procs`, String(pid));
  }
}

/**
 * {@linkcode joinCgroup} on worker threads: the first write to a
 * `cgroup.procs` waits for an RCU grace period (the kernel's threadgroup
 * lock; 10-17 ms here), which this lets the caller spend on other work.
 */
export async function joinCgroupAsync(cg: Cgroup, pid: number): Promise<void> {
  await Promise.all(
    Object.values(cg.dirs).map((dir) => Deno.writeTextFile(`${dir}/cgroup.procs`, String(pid))),
  );
}
