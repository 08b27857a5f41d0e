/**
 * Temporary names under `<root>/tmp`, owned by the process that made them, so
 * that a later process can clear what a killed one left behind.
 *
 * @module
 */

let counter = 0;

/** A fresh path under `tmpDir`, named `<pid>-<time>-<n>-<random>` (not created). */
export function tempPath(tmpDir: string, suffix = ""): string {
  const rand = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  return `${tmpDir}/${Deno.pid}-${Date.now().toString(36)}-${counter++}-${rand}${suffix}`;
}

/**
 * A fresh directory under `tmpDir` (mode 0700), named as {@linkcode tempPath}
 * names, so no other process clears it while this one lives. Every
 * temporary file or directory in a store's `tmp/` must be named so.
 */
export function makeTempDir(tmpDir: string, suffix = ""): string {
  const path = tempPath(tmpDir, suffix);
  Deno.mkdirSync(path, { mode: 0o700 });
  return path;
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes entries of `tmpDir` whose owning process is gone (a `kill -9` or a
 * power loss in the middle of a write). Entries of live processes stay. A
 * mount left under a stale entry (a killed `cp` or copy-up) is detached
 * first, and an entry whose mount cannot be detached is left as it is: a
 * removal never reaches through a mount into a container's files.
 * @returns the number of entries removed
 */
export function clearStale(tmpDir: string): number {
  let removed = 0;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(tmpDir)];
  } catch {
    return 0;
  }
  let mounts: string[] | undefined;
  for (const entry of entries) {
    const pid = Number(entry.name.split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && (pid === Deno.pid || alive(pid))) continue;
    const path = `${tmpDir}/${entry.name}`;
    mounts ??= mountPoints();
    if (!detachMountsUnder(path, mounts)) continue;
    try {
      Deno.removeSync(path, { recursive: true });
      removed++;
    } catch {
      // another process cleared it first
    }
  }
  return removed;
}

/** The mount points of this mount namespace (mountinfo's field 5, octal escapes decoded). */
function mountPoints(): string[] {
  try {
    return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
      .map((line) => line.split(" ")[4])
      .filter((p): p is string => p !== undefined)
      .map((p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
  } catch {
    return [];
  }
}

/**
 * Detaches every mount at or under `path`, deepest first; false when one
 * stays. `umount -l` is spawned rather than umount2(2) through ffi: this runs
 * only after a killed process, and the read-only commands that open the
 * store then need not load libc's bindings.
 */
function detachMountsUnder(path: string, mounts: readonly string[]): boolean {
  const under = mounts.filter((m) => m === path || m.startsWith(`${path}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of under) {
    try {
      const out = new Deno.Command("umount", { args: ["-l", m], stdout: "null", stderr: "null" })
        .outputSync();
      if (!out.success) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Writes `data` to `path` atomically: a temp file in `tmpDir`, fsync'd, then
 * renamed over `path` (same file system), so readers see the old or the new
 * content, never a part.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, tmpDir: string): void {
  const tmp = tempPath(tmpDir);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    const file = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o644 });
    try {
      let off = 0;
      while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
      file.syncDataSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  } catch (error) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // not created
    }
    throw error;
  }
}
