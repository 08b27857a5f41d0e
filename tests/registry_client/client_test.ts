/**
 * The RegistryClient API against berth's registry in this process: chunked
 * and monolithic uploads, verified downloads, tag lists, WWW-Authenticate
 * parsing, endpoints (HTTP for loopback and insecure registries), and mirrors
 * tried before the origin.
 */
import assert from "node:assert/strict";
import { sha256 } from "../../lib/digest.ts";
import { RegistryError } from "../../lib/registry/mod.ts";
import {
  parseChallenge,
  RegistryClient,
  registryEndpoints,
} from "../../lib/registry/client/mod.ts";
import { withTempDir } from "../_helpers.ts";
import { b, blobReads, importBusybox, ok, startRegistry } from "./_helpers.ts";

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let off = 0; off < size; off += 65536) {
    crypto.getRandomValues(out.subarray(off, off + 65536));
  }
  return out;
}

const streamOf = (bytes: Uint8Array) => () =>
  Promise.resolve(new Blob([bytes as BlobPart]).stream());

Deno.test("uploadBlob() sends PATCH chunks above the limit and one PUT below it", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const client = new RegistryClient(reg.host);
      const big = randomBytes(300_000);
      const blob = { digest: sha256(big), size: big.byteLength };
      let progress = 0;
      await client.uploadBlob("chunks", blob, streamOf(big), {
        monolithicLimit: 1000,
        chunkSize: 64 * 1024,
        onProgress: (n) => progress = n,
      });
      assert.equal(progress, big.byteLength);
      assert.equal(reg.requests.filter((r) => r.method === "PATCH").length, 5);
      assert.ok(await client.hasBlob("chunks", blob.digest));
      const back = await new Response(client.blobStream("chunks", { mediaType: "x", ...blob }))
        .arrayBuffer();
      assert.deepEqual(new Uint8Array(back), big);

      reg.requests.length = 0;
      const small = randomBytes(1000);
      await client.uploadBlob("chunks", { digest: sha256(small), size: 1000 }, streamOf(small));
      assert.deepEqual(reg.requests.map((r) => r.method), ["POST", "PUT"]);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("uploadStream() sends one streamed PATCH and computes the digest on the way", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const client = new RegistryClient(reg.host);
      const bytes = randomBytes(200_000);
      const sent = await client.uploadStream("streamed", await streamOf(bytes)());
      assert.deepEqual(sent, { digest: sha256(bytes), size: bytes.byteLength });
      assert.deepEqual(reg.requests.map((r) => r.method), ["POST", "PATCH", "PUT"]);
      assert.ok(await client.hasBlob("streamed", sent.digest));
    } finally {
      await reg.close();
    }
  });
});

Deno.test("uploadBlob() fails with the registry's code when the bytes do not match", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const client = new RegistryClient(reg.host);
      const bytes = randomBytes(100);
      const wrong = { digest: sha256("other"), size: 100 };
      const error = await client.uploadBlob("bad", wrong, streamOf(bytes)).then(
        () => undefined,
        (e) => e,
      );
      assert.ok(error instanceof RegistryError);
      assert.equal(error.code, "DIGEST_INVALID");
      assert.equal(await client.hasBlob("bad", wrong.digest), false);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("getManifest() fails with MANIFEST_UNKNOWN; listTags() and headManifest() answer", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const client = new RegistryClient(reg.host);
      await assert.rejects(
        () => client.getManifest("nothing", "latest", "nothing:latest"),
        (e: unknown) =>
          e instanceof RegistryError && e.code === "MANIFEST_UNKNOWN" &&
          /^Manifest for nothing:latest not found: manifest unknown/.test(e.message),
      );
      const name = `${reg.host}/tags:a`;
      await importBusybox(`${dir}/r`, name, dir);
      ok(await b(`${dir}/r`, ["tag", name, `${reg.host}/tags:b`], `${dir}/cfg`));
      ok(await b(`${dir}/r`, ["push", "-a", `${reg.host}/tags`], `${dir}/cfg`));
      assert.deepEqual((await client.listTags("tags")).sort(), ["a", "b"]);
      const head = await client.headManifest("tags", "a");
      const got = await client.getManifest("tags", "a");
      assert.deepEqual(head, {
        digest: got.digest,
        mediaType: got.mediaType,
        size: got.bytes.length,
      });
      assert.equal(await client.headManifest("tags", "nope"), undefined);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("parseChallenge() reads Bearer and Basic challenges", () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    ),
    {
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/busybox:pull",
      },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
    scheme: "basic",
    params: { realm: "Registry Realm" },
  });
});

Deno.test("registryEndpoints() uses HTTP for loopback and insecure registries unless a CA is set", () => {
  assert.equal(registryEndpoints("docker.io").origin, "https://registry-1.docker.io");
  assert.equal(registryEndpoints("localhost:5000").origin, "http://localhost:5000");
  assert.equal(registryEndpoints("127.0.0.5:80").origin, "http://127.0.0.5:80");
  assert.equal(registryEndpoints("[::1]:5000").origin, "http://[::1]:5000");
  assert.equal(registryEndpoints("reg.example:5000").origin, "https://reg.example:5000");
  assert.equal(
    registryEndpoints("reg.example:5000", { insecure: ["reg.example:5000"] }).origin,
    "http://reg.example:5000",
  );
  assert.equal(
    registryEndpoints("127.0.0.1:5000", { tls: ["127.0.0.1:5000"] }).origin,
    "https://127.0.0.1:5000",
  );
  assert.deepEqual(
    registryEndpoints("quay.io", { mirrors: { "quay.io": ["http://127.0.0.1:5001/"] } }).mirrors,
    ["http://127.0.0.1:5001"],
  );
});

Deno.test("pull tries a configured mirror first and falls back to the origin", async () => {
  await withTempDir(async (dir) => {
    const origin = startRegistry(`${dir}/origin`);
    const mirror = startRegistry(`${dir}/mirror`);
    try {
      const name = `${origin.host}/mirrored:latest`;
      await importBusybox(`${dir}/a`, name, dir);
      ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
      await Deno.mkdir(`${dir}/cfg`, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/cfg/config.json`,
        JSON.stringify({ "registry-mirrors": { [origin.host]: [mirror.url] } }),
      );
      // The mirror is empty: everything falls back to the origin.
      ok(await b(`${dir}/b`, ["pull", name], `${dir}/cfg`));
      assert.ok(mirror.requests.some((r) => r.path.endsWith("/manifests/latest")));

      // Fill the mirror; now the origin serves no blob.
      ok(await b(`${dir}/a`, ["tag", name, `${mirror.host}/mirrored:latest`], `${dir}/cfg`));
      ok(await b(`${dir}/a`, ["push", `${mirror.host}/mirrored:latest`], `${dir}/cfg`));
      origin.requests.length = 0;
      ok(await b(`${dir}/c`, ["pull", name], `${dir}/cfg`));
      assert.deepEqual(blobReads(origin.requests), []);
      assert.ok(blobReads(mirror.requests).length > 0);
    } finally {
      await origin.close();
      await mirror.close();
    }
  });
});
