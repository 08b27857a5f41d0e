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
 * power loss in the middle of a write). Entries of live processes stay.
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
  for (const entry of entries) {
    const pid = Number(entry.name.split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && (pid === Deno.pid || alive(pid))) continue;
    try {
      Deno.removeSync(`${tmpDir}/${entry.name}`, { recursive: true });
      removed++;
    } catch {
      // another process cleared it first
    }
  }
  return removed;
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
