import assert from "node:assert/strict";
import { sha256 } from "../../lib/digest.ts";
import { bytes, errorCode, pushBlob, startRegistry } from "./_helpers.ts";

Deno.test("GET /v2/ answers 200 {} with the API version header", async () => {
  const reg = await startRegistry();
  try {
    const res = await fetch(`${reg.url}/v2/`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    assert.equal(res.headers.get("Docker-Distribution-API-Version"), "registry/2.0");
  } finally {
    await reg.close();
  }
});

Deno.test("chunked upload: POST, PATCH chunks, GET status, PUT stores the blob", async () => {
  const reg = await startRegistry();
  try {
    const data = bytes("hello chunked world, in three parts");
    const digest = sha256(data);
    const post = await fetch(`${reg.url}/v2/test/app/blobs/uploads/`, { method: "POST" });
    assert.equal(post.status, 202);
    assert.equal(post.headers.get("Range"), "0-0");
    const id = post.headers.get("Docker-Upload-UUID");
    let location = post.headers.get("Location")!;
    assert.ok(location.endsWith(`/blobs/uploads/${id}`));
    const parts = [data.subarray(0, 10), data.subarray(10, 20), data.subarray(20)];
    let offset = 0;
    for (const part of parts) {
      const res = await fetch(new URL(location, reg.url), {
        method: "PATCH",
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Range": `${offset}-${offset + part.byteLength - 1}`,
        },
        body: part.slice(),
      });
      assert.equal(res.status, 202);
      offset += part.byteLength;
      assert.equal(res.headers.get("Range"), `0-${offset - 1}`);
      location = res.headers.get("Location")!;
    }
    const status = await fetch(new URL(location, reg.url));
    assert.equal(status.status, 204);
    assert.equal(status.headers.get("Range"), `0-${data.byteLength - 1}`);
    const put = await fetch(new URL(`${location}?digest=${digest}`, reg.url), { method: "PUT" });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get("Docker-Content-Digest"), digest);
    assert.equal(put.headers.get("Location"), `/v2/test/app/blobs/${digest}`);
    const get = await fetch(`${reg.url}/v2/test/app/blobs/${digest}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get("Content-Type"), "application/octet-stream");
    assert.equal(get.headers.get("Docker-Content-Digest"), digest);
    assert.deepEqual(new Uint8Array(await get.arrayBuffer()), data);
    const after = await fetch(new URL(location, reg.url));
    assert.equal(after.status, 404);
    assert.equal(await errorCode(after), "BLOB_UPLOAD_UNKNOWN");
  } finally {
    await reg.close();
  }
});

Deno.test("PUT with a final chunk and monolithic POST ?digest= both store the blob", async () => {
  const reg = await startRegistry();
  try {
    const data = bytes("monolithic");
    const digest = await pushBlob(reg.url, "mono", data);
    const head = await fetch(`${reg.url}/v2/mono/blobs/${digest}`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("Content-Length"), String(data.byteLength));
    const post = await fetch(`${reg.url}/v2/mono/blobs/uploads/`, { method: "POST" });
    await post.body?.cancel();
    const other = bytes("sent with the PUT");
    const put = await fetch(
      new URL(`${post.headers.get("Location")}?digest=${sha256(other)}`, reg.url),
      {
        method: "PUT",
        body: other,
      },
    );
    assert.equal(put.status, 201);
    const get = await fetch(`${reg.url}/v2/mono/blobs/${sha256(other)}`);
    assert.equal(await get.text(), "sent with the PUT");
  } finally {
    await reg.close();
  }
});

Deno.test("blobs are per repository; mount links them, else falls back to an upload session", async () => {
  const reg = await startRegistry();
  try {
    const digest = await pushBlob(reg.url, "a/one", bytes("shared layer"));
    const hidden = await fetch(`${reg.url}/v2/b/two/blobs/${digest}`, { method: "HEAD" });
    assert.equal(hidden.status, 404);
    const mount = await fetch(`${reg.url}/v2/b/two/blobs/uploads/?mount=${digest}&from=a/one`, {
      method: "POST",
    });
    assert.equal(mount.status, 201);
    assert.equal(mount.headers.get("Docker-Content-Digest"), digest);
    assert.equal(
      (await fetch(`${reg.url}/v2/b/two/blobs/${digest}`, { method: "HEAD" })).status,
      200,
    );
    const missing = sha256("never pushed");
    const fallback = await fetch(`${reg.url}/v2/b/two/blobs/uploads/?mount=${missing}&from=a/one`, {
      method: "POST",
    });
    assert.equal(fallback.status, 202);
    assert.ok(fallback.headers.get("Docker-Upload-UUID"));
    const wrongFrom = await fetch(`${reg.url}/v2/c/blobs/uploads/?mount=${digest}&from=b/nothere`, {
      method: "POST",
    });
    assert.equal(wrongFrom.status, 202);
  } finally {
    await reg.close();
  }
});

Deno.test("a chunk out of order gets 416 with the upload's Range; the upload stays usable", async () => {
  const reg = await startRegistry();
  try {
    const post = await fetch(`${reg.url}/v2/ooo/blobs/uploads/`, { method: "POST" });
    const location = new URL(post.headers.get("Location")!, reg.url);
    await fetch(location, {
      method: "PATCH",
      headers: { "Content-Range": "0-3" },
      body: bytes("abcd"),
    })
      .then((r) => r.body?.cancel());
    const skip = await fetch(location, {
      method: "PATCH",
      headers: { "Content-Range": "8-11" },
      body: bytes("ijkl"),
    });
    assert.equal(skip.status, 416);
    assert.equal(skip.headers.get("Range"), "0-3");
    assert.equal(await errorCode(skip), "BLOB_UPLOAD_INVALID");
    const again = await fetch(location, {
      method: "PATCH",
      headers: { "Content-Range": "0-3" },
      body: bytes("abcd"),
    });
    assert.equal(again.status, 416);
    await again.body?.cancel();
    const next = await fetch(location, {
      method: "PATCH",
      headers: { "Content-Range": "4-7" },
      body: bytes("efgh"),
    });
    assert.equal(next.status, 202);
    await next.body?.cancel();
    const put = await fetch(`${location}?digest=${sha256("abcdefgh")}`, { method: "PUT" });
    assert.equal(put.status, 201);
  } finally {
    await reg.close();
  }
});

Deno.test("a digest mismatch gives 400 DIGEST_INVALID and stores nothing", async () => {
  const reg = await startRegistry();
  try {
    const claimed = sha256("what the client claims");
    const mono = await fetch(`${reg.url}/v2/bad/blobs/uploads/?digest=${claimed}`, {
      method: "POST",
      body: bytes("something else"),
    });
    assert.equal(mono.status, 400);
    assert.equal(await errorCode(mono), "DIGEST_INVALID");
    const post = await fetch(`${reg.url}/v2/bad/blobs/uploads/`, { method: "POST" });
    await post.body?.cancel();
    const put = await fetch(new URL(`${post.headers.get("Location")}?digest=${claimed}`, reg.url), {
      method: "PUT",
      body: bytes("something else"),
    });
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), "DIGEST_INVALID");
    assert.deepEqual(await reg.storage.listBlobs(), []);
    assert.equal(
      (await fetch(`${reg.url}/v2/bad/blobs/${claimed}`, { method: "HEAD" })).status,
      404,
    );
    const tmp = [...Deno.readDirSync(`${reg.dir}/storage/tmp`)];
    assert.deepEqual(tmp, []);
  } finally {
    await reg.close();
  }
});

Deno.test("a truncated upload (fewer bytes than the digest covers) is refused", async () => {
  const reg = await startRegistry();
  try {
    const full = bytes("0123456789");
    const post = await fetch(`${reg.url}/v2/trunc/blobs/uploads/`, { method: "POST" });
    const location = new URL(post.headers.get("Location")!, reg.url);
    await fetch(location, { method: "PATCH", body: full.slice(0, 6) }).then((r) =>
      r.body?.cancel()
    );
    const put = await fetch(`${location}?digest=${sha256(full)}`, { method: "PUT" });
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), "DIGEST_INVALID");
    assert.equal(await reg.storage.statBlob(sha256(full)), undefined);
    const short = await fetch(location, {
      method: "PATCH",
      headers: { "Content-Range": "0-9" },
      body: full.slice(0, 6),
    });
    assert.ok(short.status === 404 || short.status === 416, `status ${short.status}`);
    await short.body?.cancel();
  } finally {
    await reg.close();
  }
});
