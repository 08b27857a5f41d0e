/**
 * A cross-process lock on the store (flock(2) on `<root>/lock`) around every
 * change of `index.json` and every removal of blobs or layers.
 *
 * @module
 */

/**
 * Runs `fn` while holding the store's exclusive lock. The kernel drops the
 * lock when the process dies, so a `kill -9` never leaves the store locked.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T> | T): Promise<T> {
  const file = await Deno.open(lockPath, { read: true, write: true, create: true, mode: 0o600 });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close();
  }
}
