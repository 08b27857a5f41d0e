import assert from "node:assert/strict";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { InvalidError } from "../errors.ts";
import { decompress, detectCompression } from "./compression.ts";
import { readAll, streamOf } from "./_test_util.ts";

Deno.test("detectCompression() names the format when given its magic bytes", () => {
  assert.equal(detectCompression(new Uint8Array([0x1f, 0x8b, 8])), "gzip");
  assert.equal(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0])), "zstd");
  assert.equal(detectCompression(new TextEncoder().encode("etc/passwd")), "none");
  assert.equal(detectCompression(new Uint8Array()), "none");
  assert.throws(
    () => detectCompression(new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0])),
    (e: Error) => e instanceof InvalidError && e.message === 'Unsupported layer compression: "xz"',
  );
  assert.throws(() => detectCompression(new TextEncoder().encode("BZh9")), InvalidError);
});

Deno.test("decompress() returns the original bytes when the source arrives in tiny chunks", async () => {
  const data = new TextEncoder().encode("hello ".repeat(10_000));
  for (
    const [name, blob] of [["none", data], ["gzip", gzipSync(data)], [
      "zstd",
      zstdCompressSync(data),
    ]] as const
  ) {
    const { compression, stream } = await decompress(streamOf(blob, 1));
    assert.equal(compression, name);
    assert.deepEqual(await readAll(stream), data);
  }
});

Deno.test("decompress() cancels the source when the output is cancelled", async () => {
  let cancelled = false;
  const source = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.enqueue(gzipSync(new Uint8Array(1000))),
    cancel: () => void (cancelled = true),
  });
  const { stream } = await decompress(source);
  const reader = stream.getReader();
  await reader.read();
  await reader.cancel();
  assert.ok(cancelled);
});

Deno.test("decompress() inflates on a worker and hashes the output when threaded", async () => {
  const { createHash } = await import("node:crypto");
  const data = new TextEncoder().encode("layer bytes ".repeat(50_000));
  const hex = createHash("sha256").update(data).digest("hex");
  for (const blob of [gzipSync(data), zstdCompressSync(data)]) {
    const { stream, result } = await decompress(streamOf(blob, 7), { threaded: true });
    assert.deepEqual(await readAll(stream), data);
    assert.deepEqual(await result, { digest: `sha256:${hex}`, size: data.byteLength });
  }
});

Deno.test("decompress() errors the stream with InvalidError when threaded data is corrupt", async () => {
  const blob = gzipSync(new Uint8Array(100_000).fill(7));
  blob.fill(0xff, 20, 60);
  const { stream, result } = await decompress(streamOf(blob, 1000), { threaded: true });
  await assert.rejects(readAll(stream), (e: Error) => {
    assert.ok(e instanceof InvalidError);
    assert.match(e.message, /^Invalid gzip data: /);
    return true;
  });
  await assert.rejects(result!, InvalidError);
});

Deno.test("decompress() passes a source's error through unchanged when threaded", async () => {
  const failure = new Error("connection reset");
  let sent = false;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(failure);
      sent = true;
      controller.enqueue(gzipSync(new Uint8Array(1000)).subarray(0, 50));
    },
  });
  const { stream } = await decompress(source, { threaded: true });
  await assert.rejects(readAll(stream), (e) => e === failure);
});
