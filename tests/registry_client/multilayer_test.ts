/**
 * A four-layer image pushed to berth's registry by hand: berth pulls its
 * layers in parallel up to the configured limit (the rest wait), extracts
 * every one, and pushes the image on to another repository with mounts.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { chainIds, digestHex, sha256 } from "../../lib/digest.ts";
import { run, withTempDir } from "../_helpers.ts";
import { b, inspect, ok, startRegistry } from "./_helpers.ts";

/** A gzip tar holding `/layerN.txt`. */
async function layerTar(dir: string, n: number): Promise<Uint8Array<ArrayBuffer>> {
  await Deno.mkdir(`${dir}/l${n}`, { recursive: true });
  await Deno.writeTextFile(`${dir}/l${n}/layer${n}.txt`, `layer ${n}\n`.repeat(1000 * n));
  const out = await run("tar", ["-C", `${dir}/l${n}`, "-czf", `${dir}/l${n}.tar.gz`, "."]);
  assert.equal(out.code, 0, out.stderr);
  return new Uint8Array(await Deno.readFile(`${dir}/l${n}.tar.gz`));
}

async function put(url: string, body: Uint8Array<ArrayBuffer>, type?: string): Promise<void> {
  const res = await fetch(url, {
    method: "PUT",
    body,
    ...(type ? { headers: { "Content-Type": type } } : {}),
  });
  await res.body?.cancel();
  assert.ok(res.status === 201, `${url}: ${res.status}`);
}

async function pushBlob(base: string, repo: string, bytes: Uint8Array<ArrayBuffer>) {
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  await res.body?.cancel();
  const location = new URL(res.headers.get("location")!, base);
  location.searchParams.set("digest", sha256(bytes));
  await put(location.href, bytes);
}

Deno.test("pull downloads layers in parallel up to the limit and extracts them all", async () => {
  await withTempDir(async (dir) => {
    let active = 0;
    let most = 0;
    const reg = startRegistry(`${dir}/reg`, {
      wrap: async (req, next) => {
        const layer = req.method === "GET" && /\/blobs\/sha256:/.test(req.url) &&
          !req.url.endsWith(configDigest);
        if (!layer) return next(req);
        most = Math.max(most, ++active);
        await new Promise((r) => setTimeout(r, 300));
        active--;
        return next(req);
      },
    });
    let configDigest = "";
    try {
      const layers = await Promise.all([1, 2, 3, 4].map((n) => layerTar(dir, n)));
      const diffIds = layers.map((l) => sha256(gunzipSync(l)));
      const config = new TextEncoder().encode(JSON.stringify({
        architecture: Deno.build.arch === "x86_64" ? "amd64" : "arm64",
        os: "linux",
        config: { Cmd: ["sh"] },
        rootfs: { type: "layers", diff_ids: diffIds },
      }));
      configDigest = sha256(config);
      for (const blob of [...layers, config]) await pushBlob(reg.url, "four", blob);
      const manifest = new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        config: {
          mediaType: "application/vnd.docker.container.image.v1+json",
          digest: configDigest,
          size: config.byteLength,
        },
        layers: layers.map((l) => ({
          mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
          digest: sha256(l),
          size: l.byteLength,
        })),
      }));
      await put(
        `${reg.url}/v2/four/manifests/latest`,
        manifest,
        "application/vnd.docker.distribution.manifest.v2+json",
      );

      const name = `${reg.host}/four:latest`;
      const out = ok(
        await b(`${dir}/r`, ["pull", name], `${dir}/cfg`, {
          env: { BERTH_MAX_CONCURRENT_DOWNLOADS: "2" },
        }),
      );
      assert.equal(most, 2);
      assert.equal(out.stdout.match(/: Pull complete$/gm)?.length, 4);
      assert.equal(out.stdout.match(/: Waiting$/gm)?.length, 2);
      const image = await inspect(`${dir}/r`, name);
      assert.equal(image.Id, configDigest);
      assert.deepEqual(image.RepoDigests, [`${reg.host}/four@${sha256(manifest)}`]);
      chainIds(diffIds).forEach((chain, i) => {
        const file = `${dir}/r/layers/${digestHex(chain)}/diff/layer${i + 1}.txt`;
        assert.equal(Deno.statSync(file).size, `layer ${i + 1}\n`.length * 1000 * (i + 1));
      });

      const copy = `${reg.host}/copy:latest`;
      ok(await b(`${dir}/r`, ["tag", name, copy], `${dir}/cfg`));
      const pushed = ok(await b(`${dir}/r`, ["push", copy], `${dir}/cfg`));
      assert.equal(pushed.stdout.match(/: Mounted from four$/gm)?.length, 4);
      const digest = /latest: digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
      assert.equal(digest, sha256(manifest), "the manifest is pushed as it was pulled");
    } finally {
      await reg.close();
    }
  });
});

Deno.test("pull of a manifest that lists one layer twice stores it once and extracts both", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const layer = await layerTar(dir, 1);
      const diffId = sha256(gunzipSync(layer));
      const config = new TextEncoder().encode(JSON.stringify({
        architecture: "amd64",
        os: "linux",
        rootfs: { type: "layers", diff_ids: [diffId, diffId] },
      }));
      for (const blob of [layer, config]) await pushBlob(reg.url, "twice", blob);
      const desc = {
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        digest: sha256(layer),
        size: layer.byteLength,
      };
      const manifest = new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha256(config),
          size: config.byteLength,
        },
        layers: [desc, desc],
      }));
      await put(
        `${reg.url}/v2/twice/manifests/latest`,
        manifest,
        "application/vnd.oci.image.manifest.v1+json",
      );
      ok(await b(`${dir}/r`, ["pull", `${reg.host}/twice`], `${dir}/cfg`));
      assert.equal((await inspect(`${dir}/r`, `${reg.host}/twice`)).Id, sha256(config));
      assert.equal([...Deno.readDirSync(`${dir}/r/layers`)].length, 2);
      assert.ok(
        [...Deno.readDirSync(`${dir}/r/blobs/sha256`)].some((e) =>
          e.name === digestHex(desc.digest)
        ),
      );
      assert.deepEqual([...Deno.readDirSync(`${dir}/r/downloads`)], []);
    } finally {
      await reg.close();
    }
  });
});
