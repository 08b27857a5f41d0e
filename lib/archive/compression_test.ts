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
