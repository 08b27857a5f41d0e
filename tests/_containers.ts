/**
 * Shared by the container tests: a temp root holding a busybox image, and a
 * check afterwards that no container, mount or cgroup of berth is left.
 */
import assert from "node:assert/strict";
import { berth, makeRootfs, withTempDir } from "./_helpers.ts";

/** A process that exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) [ZX] /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** Every live process (but this one) whose command line mentions `text`. */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
      if (cmdline.includes(text) && alive(Number(e.name))) pids.push(Number(e.name));
    } catch {
      // it ended
    }
  }
  return pids;
}

export interface Env {
  dir: string;
  b: (
    args: string[],
    opts?: { stdin?: Uint8Array; env?: Record<string, string> },
  ) => ReturnType<typeof berth>;
}

/** A temp root with a busybox image, and a check afterwards that nothing of berth is left. */
export async function withBusybox(fn: (env: Env) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const b = (args: string[], opts: { stdin?: Uint8Array; env?: Record<string, string> } = {}) =>
      berth(root, ["--run-root", `${dir}/run`, ...args], opts);
    const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
    assert.equal((await b(["import", "--change", 'CMD ["sh"]', tarball, "busybox"])).code, 0);
    try {
      await fn({ dir, b });
    } finally {
      const ids = (await b(["ps", "-aq", "--no-trunc"])).stdout.trim().split("\n").filter((l) =>
        l !== ""
      );
      for (const id of ids) await b(["rm", "-f", id]);
      // A monitor ends once its exit command has run (a moment after `rm -f` returns).
      for (let i = 0; i < 100 && processesMentioning(root).length > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(processesMentioning(root), [], "no process of berth is left");
      const mounts = Deno.readTextFileSync("/proc/self/mountinfo");
      assert.ok(!mounts.includes(dir), "no mount under the test's root is left");
      for (const ctrl of ["memory", "pids", "cpu"]) {
        for (const id of ids) {
          assert.throws(
            () => Deno.statSync(`/sys/fs/cgroup/${ctrl}/berth/${id}`),
            `cgroup ${ctrl}/berth/${id} is removed`,
          );
        }
      }
    }
  });
}
