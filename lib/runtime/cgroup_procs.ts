/**
 * A cgroup's processes: moving one in, listing them, whether the OOM killer
 * acted. Apart from cgroup.ts (which makes cgroups and writes limits) so
 * that `exec` loads only this.
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

/** Whether the kernel's OOM killer has killed a process of the cgroup. */
export function oomKilled(cg: Cgroup): boolean {
  const [dir, file] = cg.version === 2
    ? [cg.dirs[""], "memory.events"]
    : [cg.dirs.memory, "memory.oom_control"];
  if (dir === undefined) return false;
  try {
    const m = Deno.readTextFileSync(`${dir}/${file}`).match(/^oom_kill (\d+)$/m);
    return m !== null && Number(m[1]) > 0;
  } catch {
    return false;
  }
}

/** The pids in the cgroup (empty when it is gone). */
export function cgroupPids(cg: Cgroup): number[] {
  const dir = cg.version === 2 ? cg.dirs[""] : cg.dirs.pids ?? cg.dirs.memory;
  if (dir === undefined) return [];
  try {
    return Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n").filter((l) => l !== "").map(
      Number,
    );
  } catch {
    return [];
  }
}
