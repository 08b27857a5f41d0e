import assert from "node:assert/strict";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { InvalidError } from "../errors.ts";
import { decompress, detectCompression } from "./compression.ts";
import { InflateWorkers } from "./_threaded_inflate.ts";
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

/** The path of `program` on PATH, if it is there. */
function which(program: string): string | undefined {
  return (Deno.env.get("PATH") ?? "").split(":").map((dir) => `${dir}/${program}`).find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
}

/**
 * Runs `fn` with an `igzip` first on PATH that logs each start, then runs
 * the real one; returns how many times it started.
 */
async function countingIgzip(fn: () => Promise<void>): Promise<number> {
  const real = which("igzip")!;
  const dir = await Deno.makeTempDir();
  const path = Deno.env.get("PATH") ?? "";
  try {
    await Deno.writeTextFile(
      `${dir}/igzip`,
      `#!/bin/sh\necho started >> '${dir}/log'\nexec '${real}' "$@"\n`,
      { mode: 0o755 },
    );
    Deno.env.set("PATH", `${dir}:${path}`);
    await fn();
    return (await Deno.readTextFile(`${dir}/log`).catch(() => "")).split("\n").length - 1;
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
}

const INFLATERS: [string, string | undefined][] = [["igzip", undefined], ["node:zlib", "0"]];

for (const [how, setting] of INFLATERS) {
  Deno.test({
    name: `decompress() inflates gzip with ${how} on the worker when threaded`,
    async fn() {
      // The igzip case must not quietly fall back to zlib (setup installs Debian's isal).
      if (setting === undefined) assert.ok(which("igzip"), "igzip is installed (Debian isal)");
      const { createHash } = await import("node:crypto");
      // Several members (as a parallel gzip writes), random and repeated data.
      const random = new Uint8Array(3 * 1024 * 1024);
      for (let off = 0; off < random.length; off += 65536) {
        crypto.getRandomValues(random.subarray(off, off + 65536));
      }
      const text = new TextEncoder().encode("layer bytes ".repeat(200_000));
      const data = new Uint8Array(random.length + text.length);
      data.set(random);
      data.set(text, random.length);
      const blob = new Uint8Array([...gzipSync(random), ...gzipSync(text)]);
      const hex = createHash("sha256").update(data).digest("hex");
      const before = Deno.env.get("BERTH_IGZIP");
      if (setting === undefined) Deno.env.delete("BERTH_IGZIP");
      else Deno.env.set("BERTH_IGZIP", setting);
      try {
        const starts = await countingIgzip(async () => {
          const { stream, result } = await decompress(streamOf(blob, 100_000), { threaded: true });
          assert.deepEqual(await readAll(stream), data);
          assert.deepEqual(await result, { digest: `sha256:${hex}`, size: data.byteLength });

          for (const bad of [corrupt(gzipSync(text)), gzipSync(text).subarray(0, 5000)]) {
            const failed = await decompress(streamOf(bad, 1000), { threaded: true });
            await assert.rejects(readAll(failed.stream), (e: Error) => {
              assert.ok(e instanceof InvalidError, String(e));
              assert.match(e.message, /^Invalid gzip data: \S/);
              return true;
            });
            await assert.rejects(failed.result!, InvalidError);
          }
        });
        assert.equal(starts, setting === undefined ? 3 : 0);
      } finally {
        if (before === undefined) Deno.env.delete("BERTH_IGZIP");
        else Deno.env.set("BERTH_IGZIP", before);
      }
    },
  });
}

/** A copy of a gzip stream with bytes of its deflate data overwritten. */
function corrupt(blob: Uint8Array): Uint8Array {
  const bad = blob.slice();
  bad.fill(0xff, 20, 60);
  return bad;
}

Deno.test("decompress() lends one worker from job to job when given InflateWorkers", async () => {
  const workers = new InflateWorkers();
  try {
    const data = new TextEncoder().encode("layer bytes ".repeat(100_000));
    // Bytes trailing the gzip data are read but must not reach the next job.
    const trailing = new Uint8Array([...gzipSync(data), ...new Uint8Array(300_000).fill(9)]);
    for (const blob of [trailing, gzipSync(data), zstdCompressSync(data)]) {
      const { stream, result } = await decompress(streamOf(blob, 4096), {
        threaded: true,
        workers,
      });
      assert.deepEqual(await readAll(stream), data);
      assert.equal((await result)?.size, data.byteLength);
      assert.equal(workers.idle, 1);
    }
    // A failed job's worker is stopped, not lent again.
    const failed = await decompress(streamOf(corrupt(gzipSync(data)), 1000), {
      threaded: true,
      workers,
    });
    await assert.rejects(readAll(failed.stream), InvalidError);
    assert.equal(workers.idle, 0);
  } finally {
    workers.close();
  }
  assert.equal(workers.idle, 0);
});

Deno.test("decompress() moves whole-buffer chunks to the worker only with transferChunks", async () => {
  const data = new TextEncoder().encode("layer bytes ".repeat(100_000));
  const blob = new Uint8Array(gzipSync(data)); // a Buffer's slice() would share its memory
  for (const transferChunks of [true, false]) {
    // Chunks of their own, and views sharing one buffer (which must never move).
    const own: Uint8Array[] = [];
    for (let off = 0; off < blob.byteLength; off += 1000) own.push(blob.slice(off, off + 1000));
    const shared = blob.slice();
    const chunks = [...own.slice(0, 3), shared.subarray(3000)];
    let i = 0;
    const source = new ReadableStream<Uint8Array>({
      pull: (c) => i < chunks.length ? c.enqueue(chunks[i++]!) : c.close(),
    });
    const { stream } = await decompress(source, { threaded: true, transferChunks });
    assert.deepEqual(await readAll(stream), data);
    // The first chunk is sniffed on this thread, then sent like the others.
    assert.deepEqual(own.slice(0, 3).map((c) => c.byteLength === 0), [
      transferChunks,
      transferChunks,
      transferChunks,
    ]);
    assert.equal(shared.byteLength, blob.byteLength);
  }
});
