import assert from "node:assert/strict";
import { sha256 } from "../../lib/digest.ts";
import { collectGarbage } from "../../lib/registry/mod.ts";
import { bytes, errorCode, pushImage, startRegistry } from "./_helpers.ts";

Deno.test("stale upload sessions expire in the background", async () => {
  const reg = await startRegistry({ uploadTtlMs: 100 });
  try {
    const post = await fetch(`${reg.url}/v2/stale/blobs/uploads/`, { method: "POST" });
    await post.body?.cancel();
    const location = new URL(post.headers.get("Location")!, reg.url);
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(location);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), "BLOB_UPLOAD_UNKNOWN");
    assert.deepEqual([...Deno.readDirSync(`${reg.dir}/storage/uploads`)], []);
  } finally {
    await reg.close();
  }
});

Deno.test("parallel chunked pushes to several repositories all land", async () => {
  const reg = await startRegistry();
  try {
    const push = async (i: number) => {
      const data = bytes(`blob number ${i} `.repeat(1000 + i));
      const post = await fetch(`${reg.url}/v2/par/r${i % 3}/blobs/uploads/`, { method: "POST" });
      await post.body?.cancel();
      let location = new URL(post.headers.get("Location")!, reg.url);
      for (let off = 0; off < data.byteLength; off += 4096) {
        const part = data.slice(off, off + 4096);
        const res = await fetch(location, {
          method: "PATCH",
          headers: { "Content-Range": `${off}-${off + part.byteLength - 1}` },
          body: part,
        });
        assert.equal(res.status, 202);
        location = new URL(res.headers.get("Location")!, reg.url);
      }
      const put = await fetch(`${location}?digest=${sha256(data)}`, { method: "PUT" });
      assert.equal(put.status, 201);
      return sha256(data);
    };
    const digests = await Promise.all(Array.from({ length: 12 }, (_, i) => push(i)));
    assert.deepEqual((await reg.storage.listBlobs()).sort(), [...digests].sort());
    const images = await Promise.all(["a", "b", "c"].map((t) => pushImage(reg.url, "par/img", t)));
    const tags = await (await fetch(`${reg.url}/v2/par/img/tags/list`)).json();
    assert.deepEqual(tags.tags, ["a", "b", "c"]);
    assert.equal(new Set(images.map((i) => i.manifest)).size, 3);
  } finally {
    await reg.close();
  }
});

Deno.test("uploads past maxConcurrentUploads get 429 TOOMANYREQUESTS; others are still served", async () => {
  const reg = await startRegistry({ maxConcurrentUploads: 1 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: reg.server.port });
  try {
    // One upload stalls mid-body and holds the only slot.
    await conn.write(bytes(
      `POST /v2/slow/blobs/uploads/?digest=${sha256("x".repeat(100))} HTTP/1.1\r\nHost: x\r\n` +
        "Content-Length: 100\r\n\r\nxxxx",
    ));
    await new Promise((r) => setTimeout(r, 100));
    const second = await fetch(`${reg.url}/v2/fast/blobs/uploads/?digest=${sha256("y")}`, {
      method: "POST",
      body: bytes("y"),
    });
    assert.equal(second.status, 429);
    assert.equal(second.headers.get("Retry-After"), "1");
    assert.equal(await errorCode(second), "TOOMANYREQUESTS");
    const list = await fetch(`${reg.url}/v2/_catalog`);
    assert.equal(list.status, 200);
    await list.body?.cancel();
    await conn.write(bytes("x".repeat(96)));
    const reply = new Uint8Array(1024);
    const n = await conn.read(reply);
    assert.match(new TextDecoder().decode(reply.subarray(0, n ?? 0)), /^HTTP\/1.1 201/);
    const third = await fetch(`${reg.url}/v2/fast/blobs/uploads/?digest=${sha256("y")}`, {
      method: "POST",
      body: bytes("y"),
    });
    assert.equal(third.status, 201);
    await third.body?.cancel();
  } finally {
    conn.close();
    await reg.close();
  }
});

Deno.test("gc removes an abandoned upload session but not one a PATCH is writing", async () => {
  const reg = await startRegistry();
  try {
    const start = async () => {
      const post = await fetch(`${reg.url}/v2/gc/blobs/uploads/`, { method: "POST" });
      await post.body?.cancel();
      return {
        id: post.headers.get("Docker-Upload-UUID")!,
        location: new URL(post.headers.get("Location")!, reg.url),
      };
    };
    const abandoned = await start();
    const live = await start();
    const first = new Uint8Array(2 * 1024 * 1024).fill(7);
    const last = bytes("the end");
    let send!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (send = c) });
    send.enqueue(first);
    const patch = fetch(live.location, { method: "PATCH", body });
    const data = `${reg.dir}/storage/uploads/${live.id}/data`;
    for (let i = 0; i < 100 && Deno.statSync(data).size === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(Deno.statSync(data).size > 0, "the PATCH is being written");

    const report = await collectGarbage(reg.storage);
    assert.deepEqual(report.uploads, [abandoned.id]);
    const sessions = [...Deno.readDirSync(`${reg.dir}/storage/uploads`)].map((e) => e.name);
    assert.deepEqual(sessions, [live.id], "the abandoned session's directory is gone");

    send.enqueue(last);
    send.close();
    const patched = await patch;
    await patched.body?.cancel();
    assert.equal(patched.status, 202);
    const whole = new Uint8Array(first.byteLength + last.byteLength);
    whole.set(first);
    whole.set(last, first.byteLength);
    const put = await fetch(`${live.location}?digest=${sha256(whole)}`, { method: "PUT" });
    await put.body?.cancel();
    assert.equal(put.status, 201, "the upload gc left alone completes");
    assert.equal((await fetch(abandoned.location)).status, 404);
  } finally {
    await reg.close();
  }
});
