/**
 * Keeps the garbage of a long byte stream from piling up. Every chunk of a
 * layer is a fresh buffer outside V8's heap, dead once written; V8 collects
 * such buffers lazily (it lets external memory grow by 64 MB or more past
 * the last collection, and by more as a process goes on), so importing a
 * layer that inflates to 8 GiB peaked at 1 GB RSS. Buffers cannot be
 * recycled instead: tar-stream keeps views of a chunk past its write.
 *
 * {@linkcode paceGc} collects once external memory has grown by
 * {@linkcode GROWTH} since the last collection: a full collection costs
 * ~7 ms here, paid once per 32 MiB of garbage and only by streams that make
 * that much (a 685 MB layer imported as fast either way; a 3 GiB layer of
 * zeros peaked at ~140 MB RSS instead of ~300 MB, ~160 MB with node:zlib on
 * the worker). The collector is reached the way jest's leak detector
 * reaches it (`--expose-gc` set at run time, `gc` read from a fresh
 * context); where that fails, V8's own pace stays.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

/** Growth of external memory since the last collection that triggers the next. */
const GROWTH = 32 * 1024 * 1024;
/** Bytes streamed between two looks at the heap statistics (~4 µs each). */
const CHECK_EVERY = 4 * 1024 * 1024;

let collect: (() => void) | null | undefined;
let unchecked = 0;
let floor = 0;

/**
 * Notes `bytes` streamed through this thread (per isolate: a worker has its
 * own), collecting garbage when external memory has grown too much.
 */
export function paceGc(bytes: number): void {
  unchecked += bytes;
  if (unchecked < CHECK_EVERY) return;
  unchecked = 0;
  const external = v8.getHeapStatistics().external_memory;
  floor = Math.min(floor, external);
  if (external < floor + GROWTH) return;
  collect ??= exposeGc();
  if (collect === null) return;
  collect();
  floor = v8.getHeapStatistics().external_memory;
}

function exposeGc(): (() => void) | null {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    return typeof gc === "function" ? () => gc() : null;
  } catch {
    return null;
  }
}
