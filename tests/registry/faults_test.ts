import assert from "node:assert/strict";
import { sha256 } from "../../lib/digest.ts";
import {
  bytes,
  errorCode,
  imageManifest,
  pushBlob,
  rawRequest,
  startRegistry,
} from "./_helpers.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

Deno.test("a manifest naming a blob never pushed gets MANIFEST_BLOB_UNKNOWN", async () => {
  const reg = await startRegistry();
  try {
    const config = await pushBlob(reg.url, "m", bytes("{}"));
    const body = imageManifest({ digest: config, size: 2 }, [{
      digest: sha256("missing layer"),
      size: 13,
    }]);
    const res = await fetch(`${reg.url}/v2/m/manifests/v1`, {
      method: "PUT",
      headers: { "Content-Type": OCI_MANIFEST },
      body,
    });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), "MANIFEST_BLOB_UNKNOWN");
    const other = await pushBlob(reg.url, "other", bytes("layer in another repo"));
    const foreign = imageManifest({ digest: config, size: 2 }, [{ digest: other, size: 21 }]);
    const res2 = await fetch(`${reg.url}/v2/m/manifests/v1`, {
      method: "PUT",
      headers: { "Content-Type": OCI_MANIFEST },
      body: foreign,
    });
    assert.equal(await errorCode(res2), "MANIFEST_BLOB_UNKNOWN");
    assert.equal((await fetch(`${reg.url}/v2/m/manifests/v1`)).status, 404);
  } finally {
    await reg.close();
  }
});

Deno.test("an unknown media type, bad JSON or a wrong digest is refused", async () => {
  const reg = await startRegistry();
  try {
    const config = await pushBlob(reg.url, "m", bytes("{}"));
    const body = imageManifest({ digest: config, size: 2 }, []);
    const put = (ref: string, type: string, data: Uint8Array<ArrayBuffer>) =>
      fetch(`${reg.url}/v2/m/manifests/${ref}`, {
        method: "PUT",
        headers: { "Content-Type": type },
        body: data,
      });
    const unknownType = await put("v1", "application/vnd.example.thing+json", body);
    assert.equal(unknownType.status, 400);
    assert.equal(await errorCode(unknownType), "MANIFEST_INVALID");
    const bodyType = bytes(
      JSON.stringify({ ...JSON.parse(new TextDecoder().decode(body)), mediaType: "x/y" }),
    );
    assert.equal(
      await errorCode(await put("v1", "application/json", bodyType)),
      "MANIFEST_INVALID",
    );
    assert.equal(
      await errorCode(await put("v1", OCI_MANIFEST, bytes("{not json"))),
      "MANIFEST_INVALID",
    );
    const wrong = await put(sha256("other"), OCI_MANIFEST, body);
    assert.equal(wrong.status, 400);
    assert.equal(await errorCode(wrong), "DIGEST_INVALID");
    const byDigest = await put(sha256(body), OCI_MANIFEST, body);
    assert.equal(byDigest.status, 201);
    await byDigest.body?.cancel();
    const sha512 = await fetch(`${reg.url}/v2/m/blobs/sha512:${"a".repeat(128)}`);
    assert.equal(sha512.status, 400);
    assert.equal(await errorCode(sha512), "DIGEST_INVALID");
  } finally {
    await reg.close();
  }
});

Deno.test("names with .. get NAME_INVALID and nothing is written outside the storage", async () => {
  const reg = await startRegistry();
  try {
    for (const name of ["a..b", "a/..b", "..a/b", "a%2F..%2Fb", "Upper/case", "-lead", "a//b"]) {
      const res = await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest=${sha256("x")}`, {
        method: "POST",
        body: bytes("x"),
      });
      assert.equal(res.status, 400, name);
      assert.equal(await errorCode(res), "NAME_INVALID", name);
    }
    // URL parsing resolves dot segments (also %2e%2e) before routing: they never reach a name.
    for (const path of ["%2e%2e/escape", "a/%2e%2e/%2e%2e/escape"]) {
      const res = await fetch(`${reg.url}/v2/${path}/blobs/uploads/?digest=${sha256("x")}`, {
        method: "POST",
        body: bytes("x"),
      });
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
    const raw = await rawRequest(
      reg.server.port,
      `POST /v2/../../../escape/blobs/uploads/?digest=${
        sha256("x")
      } HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx`,
    );
    assert.ok(!/^HTTP\/1.1 2/.test(raw), raw);
    const names = [...Deno.readDirSync(reg.dir)].map((e) => e.name);
    assert.ok(names.every((n) => n === "storage"), names.join());
    assert.deepEqual(await reg.storage.listRepositories(), []);
    assert.deepEqual(await reg.storage.listBlobs(), []);
  } finally {
    await reg.close();
  }
});

Deno.test("a 10 GB Content-Length is refused early with 413 SIZE_INVALID", async () => {
  const reg = await startRegistry({ maxBlobSize: 1024 ** 3 });
  try {
    const head = (path: string, method = "POST") =>
      `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10737418240\r\nConnection: close\r\n\r\n`;
    const mono = await rawRequest(
      reg.server.port,
      head(`/v2/big/blobs/uploads/?digest=${sha256("x")}`),
    );
    assert.match(mono, /^HTTP\/1.1 413/);
    assert.match(mono, /SIZE_INVALID/);
    const post = await fetch(`${reg.url}/v2/big/blobs/uploads/`, { method: "POST" });
    await post.body?.cancel();
    const patch = await rawRequest(reg.server.port, head(post.headers.get("Location")!, "PATCH"));
    assert.match(patch, /^HTTP\/1.1 413/);
    const ok = await fetch(`${reg.url}/v2/`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await reg.close();
  }
  const noLimit = await startRegistry();
  try {
    const huge = await rawRequest(
      noLimit.server.port,
      `POST /v2/big/blobs/uploads/?digest=${sha256("x")} HTTP/1.1\r\nHost: x\r\nContent-Length: ${
        1024 ** 5
      }\r\nConnection: close\r\n\r\n`,
    );
    assert.match(huge, /^HTTP\/1.1 413/, "a petabyte is more than the disk has");
  } finally {
    await noLimit.close();
  }
});

Deno.test("a client that disconnects mid-upload leaves nothing stored; the server serves others", async () => {
  const reg = await startRegistry();
  try {
    const data = new Uint8Array(256 * 1024).fill(7);
    await rawRequest(
      reg.server.port,
      `POST /v2/cut/blobs/uploads/?digest=${
        sha256(data)
      } HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.byteLength}\r\n\r\n`,
      data.subarray(0, 100_000),
      false,
    );
    const post = await fetch(`${reg.url}/v2/cut/blobs/uploads/`, { method: "POST" });
    await post.body?.cancel();
    const location = post.headers.get("Location")!;
    await rawRequest(
      reg.server.port,
      `PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.byteLength}\r\n\r\n`,
      data.subarray(0, 100_000),
      false,
    );
    await new Promise((r) => setTimeout(r, 200));
    const status = await fetch(new URL(location, reg.url));
    assert.equal(status.status, 204);
    assert.equal(status.headers.get("Range"), "0-0", "the cut chunk was rolled back");
    const other = await pushBlob(reg.url, "cut", bytes("after the cut"));
    assert.equal((await fetch(`${reg.url}/v2/cut/blobs/${other}`, { method: "HEAD" })).status, 200);
    assert.deepEqual(await reg.storage.listBlobs(), [other]);
    assert.deepEqual([...Deno.readDirSync(`${reg.dir}/storage/tmp`)], []);
  } finally {
    await reg.close();
  }
});

Deno.test("Range GET answers 206 with Content-Range; an unsatisfiable range 416", async () => {
  const reg = await startRegistry();
  try {
    const digest = await pushBlob(reg.url, "r", bytes("0123456789"));
    const part = await fetch(`${reg.url}/v2/r/blobs/${digest}`, {
      headers: { Range: "bytes=2-5" },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("Content-Range"), "bytes 2-5/10");
    assert.equal(part.headers.get("Content-Length"), "4");
    assert.equal(await part.text(), "2345");
    const tail = await fetch(`${reg.url}/v2/r/blobs/${digest}`, { headers: { Range: "bytes=7-" } });
    assert.equal(await tail.text(), "789");
    const suffix = await fetch(`${reg.url}/v2/r/blobs/${digest}`, {
      headers: { Range: "bytes=-2" },
    });
    assert.equal(await suffix.text(), "89");
    const bad = await fetch(`${reg.url}/v2/r/blobs/${digest}`, {
      headers: { Range: "bytes=20-30" },
    });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get("Content-Range"), "bytes */10");
    await bad.body?.cancel();
  } finally {
    await reg.close();
  }
});

Deno.test({
  name: "a full disk refuses the upload (413 up front, 507 mid-write), stores nothing, serves on",
  ignore: Deno.uid() !== 0,
  async fn() {
    const reg = await startRegistry();
    const storage = `${reg.dir}/storage`;
    await Deno.mkdir(storage);
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", storage],
    }).output();
    try {
      assert.ok(mount.success, new TextDecoder().decode(mount.stderr));
      const big = new Uint8Array(3 * 1024 * 1024);
      const early = await fetch(`${reg.url}/v2/full/blobs/uploads/?digest=${sha256(big)}`, {
        method: "POST",
        body: big,
      });
      assert.equal(early.status, 413, "df says 1 MiB is free");
      assert.equal(await errorCode(early), "SIZE_INVALID");
      const mid = new Uint8Array(900 * 1024).fill(1);
      const pushes = [0, 1].map((i) =>
        fetch(`${reg.url}/v2/full/blobs/uploads/?digest=${sha256(mid.map(() => i + 1))}`, {
          method: "POST",
          body: mid.map(() => i + 1),
        })
      );
      const statuses = await Promise.all(pushes.map(async (p) => {
        const res = await p;
        await res.body?.cancel();
        return res.status;
      }));
      assert.ok(statuses.includes(507), `statuses ${statuses}`);
      assert.deepEqual([...Deno.readDirSync(`${storage}/tmp`)], [], "no half-written temp file");
      const small = await pushBlob(reg.url, "full", bytes("still fine"));
      assert.equal(
        (await fetch(`${reg.url}/v2/full/blobs/${small}`, { method: "HEAD" })).status,
        200,
      );
    } finally {
      await reg.server.shutdown();
      if (mount.success) await new Deno.Command("umount", { args: [storage] }).output();
      await reg.close();
    }
  },
});
