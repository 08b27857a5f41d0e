/**
 * Runs jobs with at most `limit` at a time. On the first failure no new job
 * starts, the running ones are told through the signal, and once they have
 * all settled the first error is thrown (so nothing is left half-done behind
 * the caller's back).
 *
 * @module
 */

/**
 * Maps `items` through `fn`, `limit` at a time.
 * @returns the results, in the order of `items`
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  onSettled?: (results: (R | undefined)[]) => void,
): Promise<R[]> {
  const results: (R | undefined)[] = new Array(items.length);
  const abort = new AbortController();
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index, abort.signal);
      } catch (error) {
        failure ??= { error };
        abort.abort(error);
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  if (failure !== undefined) {
    onSettled?.(results);
    throw failure.error;
  }
  return results as R[];
}
