/**
 * Faults on the wire, from a tiny fake registry in the test: a blob that does
 * not match its digest is refused with nothing stored; a download cut short
 * resumes with a Range request (or skips ahead when the registry ignores
 * Range); a pull killed with SIGKILL leaves no blob and the next pull works.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { sha256 } from "../../lib/digest.ts";
import { berthArgs, have, listDir, withTempDir } from "../_helpers.ts";
import { b, blobReads, inspect, ok, rootfs, serve, type TestServer } from "./_helpers.ts";

interface FakeImage {
  manifest: Uint8Array<ArrayBuffer>;
  config: Uint8Array<ArrayBuffer>;
  layer: Uint8Array<ArrayBuffer>;
  layerDigest: string;
  configDigest: string;
}

/** A one-layer image; `mangle` changes the layer's bytes after its diff ID is taken. */
async function fakeImage(
  dir: string,
  mangle = (layer: Uint8Array<ArrayBuffer>) => layer,
): Promise<FakeImage> {
  const good = new Uint8Array(await Deno.readFile(await rootfs(dir)));
  const diffId = sha256(gunzipSync(good));
  const layer = mangle(good);
  const config = new TextEncoder().encode(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: [diffId] },
  }));
  const manifest = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: sha256(config),
      size: config.byteLength,
    },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: sha256(layer),
      size: layer.byteLength,
    }],
  }));
  return { manifest, config, layer, layerDigest: sha256(layer), configDigest: sha256(config) };
}

/** A registry serving one image; `layer` answers the layer's GETs. */
function fakeRegistry(
  image: FakeImage,
  layer: (req: Request, attempt: number) => Response | Promise<Response>,
): TestServer {
  let attempts = 0;
  return serve((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/v2/" || path === "/v2") return new Response("{}");
    if (path.endsWith("/manifests/latest")) {
      return new Response(image.manifest, {
        headers: {
          "Content-Type": "application/vnd.oci.image.manifest.v1+json",
          "Docker-Content-Digest": sha256(image.manifest),
        },
      });
    }
    if (path.endsWith(`/blobs/${image.configDigest}`)) return new Response(image.config);
    if (path.endsWith(`/blobs/${image.layerDigest}`)) return layer(req, attempts++);
    return new Response('{"errors":[{"code":"BLOB_UNKNOWN","message":"no"}]}', { status: 404 });
  });
}

/** Serves the layer from the start a `Range: bytes=N-` header asks for (206), or whole. */
function ranged(req: Request, layer: Uint8Array<ArrayBuffer>): Response {
  const start = Number(/^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "")?.[1] ?? NaN);
  if (Number.isNaN(start)) return new Response(layer);
  return new Response(layer.slice(start), {
    status: 206,
    headers: { "Content-Range": `bytes ${start}-${layer.byteLength - 1}/${layer.byteLength}` },
  });
}

/** A body that sends `bytes` and ends short of its Content-Length (the connection breaks). */
function cutBody(bytes: Uint8Array<ArrayBuffer>, total: number): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      setTimeout(() => controller.close(), 50);
    },
  });
  return new Response(body, { headers: { "Content-Length": String(total) } });
}

function assertNothingStored(root: string, image: FakeImage): void {
  assert.ok(!listDir(`${root}/blobs/sha256`).includes(image.layerDigest.slice(7)));
  assert.deepEqual(listDir(`${root}/layers`), []);
  const index = JSON.parse(Deno.readTextFileSync(`${root}/index.json`));
  assert.deepEqual(index.manifests, []);
}

Deno.test("pull refuses a blob that does not match its digest and stores nothing", async () => {
  await withTempDir(async (dir) => {
    const image = await fakeImage(dir);
    // gzip ignores its MTIME bytes: the layer still extracts, only the digest is wrong.
    const wrong = image.layer.slice();
    wrong[5] = wrong[5]! ^ 0xff;
    const reg = fakeRegistry(image, () => new Response(wrong));
    try {
      const out = await b(`${dir}/r`, ["pull", `${reg.host}/fake`], `${dir}/cfg`);
      assert.equal(out.code, 1);
      assert.match(out.stderr, /Digest mismatch/);
      assertNothingStored(`${dir}/r`, image);
      assert.deepEqual(listDir(`${dir}/r/tmp`), []);
      assert.deepEqual(listDir(`${dir}/r/downloads`), []);
    } finally {
      await reg.close();
    }
  });
});

for (const [how, env] of [["igzip", {}], ["node:zlib", { BERTH_IGZIP: "0" }]] as const) {
  Deno.test(`pull refuses a corrupt gzip layer (inflated by ${how}) and stores nothing`, async () => {
    // The igzip case must not quietly fall back to zlib.
    if (how === "igzip") assert.ok(have("igzip"), "igzip is installed (Debian isal)");
    await withTempDir(async (dir) => {
      // The blob matches its digest, and its tar reads well: only gzip's
      // CRC-32 at the end tells that the bytes are not what was written.
      const image = await fakeImage(dir, (layer) => {
        const bad = layer.slice();
        bad[bad.byteLength - 8] = bad[bad.byteLength - 8]! ^ 0xff;
        return bad;
      });
      const reg = fakeRegistry(image, () => new Response(image.layer));
      try {
        const out = await b(`${dir}/r`, ["pull", `${reg.host}/fake`], `${dir}/cfg`, { env });
        assert.equal(out.code, 1);
        assert.match(out.stderr, /Invalid layer archive: invalid gzip data: \S/);
        assertNothingStored(`${dir}/r`, image);
        assert.deepEqual(listDir(`${dir}/r/tmp`), []);
        assert.deepEqual(listDir(`${dir}/r/downloads`), []);
      } finally {
        await reg.close();
      }
    });
  });
}

Deno.test("an interrupted download resumes with a Range request", async () => {
  await withTempDir(async (dir) => {
    const image = await fakeImage(dir);
    const half = Math.floor(image.layer.byteLength / 2);
    const reg = fakeRegistry(image, (req, attempt) => {
      if (attempt === 0) return cutBody(image.layer.slice(0, half), image.layer.byteLength);
      if (!req.headers.has("range")) return new Response("no range", { status: 500 });
      return ranged(req, image.layer);
    });
    try {
      ok(await b(`${dir}/r`, ["pull", `${reg.host}/fake`], `${dir}/cfg`));
      const gets = blobReads(reg.requests).filter((r) => r.path.endsWith(image.layerDigest));
      assert.equal(gets.length, 2);
      assert.equal(gets[0]!.headers.get("range"), null);
      const range = /^bytes=(\d+)-$/.exec(gets[1]!.headers.get("range") ?? "");
      assert.ok(range !== null && Number(range[1]) > 0 && Number(range[1]) <= half);
      assert.equal((await inspect(`${dir}/r`, `${reg.host}/fake`)).Id, image.configDigest);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("a resumed download from a registry that ignores Range skips what it has", async () => {
  await withTempDir(async (dir) => {
    const image = await fakeImage(dir);
    const half = Math.floor(image.layer.byteLength / 2);
    const reg = fakeRegistry(
      image,
      (_req, attempt) =>
        attempt === 0
          ? cutBody(image.layer.slice(0, half), image.layer.byteLength)
          : new Response(image.layer),
    );
    try {
      ok(await b(`${dir}/r`, ["pull", `${reg.host}/fake`], `${dir}/cfg`));
      assert.equal((await inspect(`${dir}/r`, `${reg.host}/fake`)).Id, image.configDigest);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("a pull killed with SIGKILL leaves no blob, and the next pull resumes it", async () => {
  await withTempDir(async (dir) => {
    const image = await fakeImage(dir);
    const half = Math.floor(image.layer.byteLength / 2);
    let sent!: () => void;
    const halfSent = new Promise<void>((resolve) => sent = resolve);
    const reg = fakeRegistry(image, (req, attempt) => {
      if (attempt > 0) return ranged(req, image.layer);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(image.layer.slice(0, half));
          setTimeout(sent, 300); // then stall until the client dies
        },
      });
      return new Response(body, { headers: { "Content-Length": String(image.layer.byteLength) } });
    });
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: berthArgs(`${dir}/r`, ["pull", `${reg.host}/fake`]),
        env: { BERTH_CONFIG: `${dir}/cfg` },
        stdout: "null",
        stderr: "null",
      }).spawn();
      await halfSent;
      child.kill("SIGKILL");
      await child.status;
      assertNothingStored(`${dir}/r`, image);
      ok(await b(`${dir}/r`, ["pull", `${reg.host}/fake`], `${dir}/cfg`));
      assert.equal((await inspect(`${dir}/r`, `${reg.host}/fake`)).Id, image.configDigest);
      assert.deepEqual(listDir(`${dir}/r/tmp`), []);
      assert.deepEqual(listDir(`${dir}/r/downloads`), []);
      // The second pull adopted the dead pull's partial file and asked only for the rest.
      const gets = blobReads(reg.requests).filter((r) => r.path.endsWith(image.layerDigest));
      const start = Number(/^bytes=(\d+)-$/.exec(gets[1]?.headers.get("range") ?? "")?.[1]);
      assert.ok(start > 0 && start <= half, `resumed at ${start}`);
    } finally {
      await reg.close();
    }
  });
});
