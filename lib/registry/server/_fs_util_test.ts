import assert from "node:assert/strict";
import { Hasher, sha256 } from "../../digest.ts";
import { RegistryError } from "../_errors.ts";
import { copyToFile, fileStream, writeAtomic } from "./_fs_util.ts";

function chunked(data: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let off = 0;
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (off >= data.byteLength) return controller.close();
      const n = sizes[i++ % sizes.length]!;
      controller.enqueue(data.slice(off, off + n));
      off += n;
    },
  });
}

Deno.test("copyToFile() writes and hashes every byte however the body is cut", async () => {
  const dir = await Deno.makeTempDir({ prefix: "berth-copy-" });
  try {
    const data = new Uint8Array(3.5 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i += 65536) {
      crypto.getRandomValues(data.subarray(i, i + 65536));
    }
    const file = await Deno.open(`${dir}/out`, { write: true, create: true });
    const hasher = new Hasher();
    const n = await copyToFile(chunked(data, [1, 4093, 65536, 1024 * 1024 + 3]), file, { hasher });
    file.close();
    assert.equal(n, data.byteLength);
    assert.equal(hasher.digest(), sha256(data));
    assert.deepEqual(await Deno.readFile(`${dir}/out`), data);
    const part = new Uint8Array(
      await new Response(await fileStream(`${dir}/out`, { start: 5, end: 1024 * 1024 + 9 }))
        .arrayBuffer(),
    );
    assert.deepEqual(part, data.subarray(5, 1024 * 1024 + 10));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copyToFile() stops at maxSize with SIZE_INVALID", async () => {
  const dir = await Deno.makeTempDir({ prefix: "berth-copy-" });
  try {
    const file = await Deno.open(`${dir}/out`, { write: true, create: true });
    try {
      await assert.rejects(
        copyToFile(chunked(new Uint8Array(3 * 1024 * 1024), [700_000]), file, {
          maxSize: 2 * 1024 * 1024,
        }),
        (e) => e instanceof RegistryError && e.code === "SIZE_INVALID" && e.status === 413,
      );
    } finally {
      file.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeAtomic() leaves no temp file behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "berth-atomic-" });
  try {
    await Deno.mkdir(`${dir}/tmp`);
    await writeAtomic(`${dir}/tmp`, `${dir}/a/b/file`, "content");
    assert.equal(await Deno.readTextFile(`${dir}/a/b/file`), "content");
    assert.deepEqual([...Deno.readDirSync(`${dir}/tmp`)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
