import assert from "node:assert/strict";
import { type PackEntry, packFiles } from "./pack_files.ts";
import { readArchive } from "./read_archive.ts";
import { readAll, streamOf } from "./_test_util.ts";

async function* items(entries: PackEntry[]): AsyncIterable<PackEntry> {
  yield* entries;
}

Deno.test("packFiles() writes a tar that readArchive() reads back when bodies are streams and bytes", async () => {
  const big = new Uint8Array(300_000).map((_, i) => i % 251);
  const tar = await readAll(packFiles(items([
    { name: "manifest.json", size: 2, body: new TextEncoder().encode("[]") },
    { name: "blobs/sha256/abc", size: big.byteLength, mode: 0o600, body: streamOf(big, 10_000) },
    { name: `long/${"n".repeat(200)}`, size: 0, body: new Uint8Array() },
  ])));
  assert.equal(tar.byteLength % 512, 0);
  const seen: [string, string, number, Uint8Array][] = [];
  await readArchive(streamOf(tar, 65_536), async (entry) => {
    seen.push([entry.name, entry.type, entry.size, await readAll(entry.body)]);
  });
  assert.deepEqual(seen.map(([name, type, size]) => [name, type, size]), [
    ["manifest.json", "file", 2],
    ["blobs/sha256/abc", "file", big.byteLength],
    [`long/${"n".repeat(200)}`, "file", 0],
  ]);
  assert.deepEqual(seen[1]![3], big);
});

Deno.test("packFiles() writes the same bytes twice when mtime is left out", async () => {
  const pack = () => readAll(packFiles(items([{ name: "a", size: 1, body: new Uint8Array([1]) }])));
  assert.deepEqual(await pack(), await pack());
});

Deno.test("packFiles() errors the stream when a body is shorter or longer than its size", async () => {
  for (const body of [new Uint8Array(3), new Uint8Array(5)]) {
    await assert.rejects(
      readAll(packFiles(items([{ name: "x", size: 4, body }]))),
      (error: Error) => {
        assert.ok(error instanceof RangeError);
        assert.match(
          error.message,
          /^Cannot add "x" to the archive: body has .* bytes, expected 4$/,
        );
        return true;
      },
    );
  }
});

Deno.test("packFiles() reads bodies only as fast as the output is consumed", async () => {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(64 * 1024));
    },
  });
  const reader = packFiles(items([{ name: "huge", size: 1 << 30, body }])).getReader();
  await reader.read();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(pulled < 64, `pulled ${pulled} chunks of 64 KiB without a reader`);
  await reader.cancel();
});
