/**
 * A worker of the parallel gzip in `image_push_compress.ts`: raw-deflates one
 * block of a layer; every block but the last ends with a sync flush
 * (byte-aligned, not final), so the blocks' outputs concatenate into one
 * deflate stream, as pigz does.
 *
 * @module
 */
import { constants, deflateRawSync } from "node:zlib";

interface Job {
  id: number;
  data: Uint8Array;
  level: number;
  last: boolean;
}

/** The worker's global scope (typed by hand: this project type-checks with the window lib). */
const scope = self as unknown as {
  onmessage: (event: MessageEvent<Job>) => void;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = (event) => {
  const { id, data, level, last } = event.data;
  const out = deflateRawSync(
    data,
    last ? { level } : {
      level,
      finishFlush: constants.Z_SYNC_FLUSH,
    },
  );
  // A Buffer may be a view of a larger pool: copy into a buffer of its own to transfer.
  const bytes = new Uint8Array(out);
  scope.postMessage({ id, bytes }, [bytes.buffer]);
};
