/**
 * berth pushes to and pulls from berth's own registry: image IDs survive the
 * round trip, repo digests are recorded, a re-push sends no blob, shared
 * layers are not downloaded again, pull by digest, unknown tags, mounts and
 * the gzip compression of uncompressed layers.
 */
import assert from "node:assert/strict";
import { berth, have, run, withTempDir } from "../_helpers.ts";
import { b, blobReads, blobWrites, importBusybox, inspect, ok, startRegistry } from "./_helpers.ts";

Deno.test("push then pull into a fresh root keeps the image ID and records RepoDigests", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const name = `${reg.host}/busybox:latest`;
      const id = await importBusybox(`${dir}/a`, name, dir);
      const pushed = ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
      assert.match(
        pushed.stdout,
        new RegExp(`The push refers to repository \\[${reg.host}/busybox\\]`),
      );
      assert.match(pushed.stdout, /^[0-9a-f]{12}: Pushed$/m);
      const digest = /latest: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(pushed.stdout)?.[1];
      assert.ok(digest, pushed.stdout);

      const pulled = ok(await b(`${dir}/b`, ["pull", `${reg.host}/busybox`], `${dir}/cfg`));
      assert.match(pulled.stdout, /^latest: Pulling from busybox$/m);
      assert.match(pulled.stdout, /^[0-9a-f]{12}: Pulling fs layer$/m);
      assert.match(pulled.stdout, /^[0-9a-f]{12}: Download complete$/m);
      assert.match(pulled.stdout, /^[0-9a-f]{12}: Pull complete$/m);
      assert.match(pulled.stdout, new RegExp(`^Digest: ${digest}$`, "m"));
      assert.match(
        pulled.stdout,
        new RegExp(`Status: Downloaded newer image for ${name}\n${name}\n$`),
      );
      const image = await inspect(`${dir}/b`, name);
      assert.equal(image.Id, id);
      assert.deepEqual(image.RepoDigests, [`${reg.host}/busybox@${digest}`]);
      const layers = [...Deno.readDirSync(`${dir}/b/layers`)].map((e) => e.name);
      assert.equal(layers.length, 1);
      assert.ok(Deno.statSync(`${dir}/b/layers/${layers[0]}/diff/bin/busybox`).isFile);
      assert.deepEqual((await inspect(`${dir}/a`, name)).RepoDigests, [
        `${reg.host}/busybox@${digest}`,
      ]);

      const again = ok(await b(`${dir}/b`, ["pull", name], `${dir}/cfg`));
      assert.match(again.stdout, new RegExp(`Status: Image is up to date for ${name}\n`));
    } finally {
      await reg.close();
    }
  });
});

Deno.test("push sends no blob when the registry has them all", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const name = `${reg.host}/app:v1`;
      await importBusybox(`${dir}/a`, name, dir);
      ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
      assert.ok(blobWrites(reg.requests).length >= 2);
      reg.requests.length = 0;
      const out = ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
      assert.match(out.stdout, /^[0-9a-f]{12}: Layer already exists$/m);
      assert.deepEqual(blobWrites(reg.requests), []);
      assert.ok(reg.requests.some((r) => r.method === "PUT" && r.path.endsWith("/manifests/v1")));
    } finally {
      await reg.close();
    }
  });
});

Deno.test("pull says Already exists and downloads nothing for a layer the store has", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const name = `${reg.host}/shared:latest`;
      await importBusybox(`${dir}/a`, name, dir);
      ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
      // Another image over the same rootfs: same layer, different config.
      const local = await importBusybox(`${dir}/b`, "local:1", dir);
      reg.requests.length = 0;
      const out = ok(await b(`${dir}/b`, ["pull", name], `${dir}/cfg`));
      assert.match(out.stdout, /^[0-9a-f]{12}: Already exists$/m);
      assert.doesNotMatch(out.stdout, /Pull complete/);
      const image = await inspect(`${dir}/b`, name);
      const layerGets = blobReads(reg.requests).filter((r) => !r.path.endsWith(image.Id as string));
      assert.deepEqual(layerGets, [], "only the config may be downloaded");
      assert.notEqual(image.Id, local);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("pull by digest, and an unknown tag fails with manifest unknown", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const name = `${reg.host}/bydigest:1.0`;
      const id = await importBusybox(`${dir}/a`, name, dir);
      const pushed = ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)![1]!;
      const byDigest = `${reg.host}/bydigest@${digest}`;
      const out = ok(await b(`${dir}/b`, ["pull", byDigest], `${dir}/cfg`));
      assert.match(out.stdout, new RegExp(`^${digest}: Pulling from bydigest$`, "m"));
      assert.match(out.stdout, new RegExp(`${byDigest}\n$`));
      assert.equal((await inspect(`${dir}/b`, byDigest)).Id, id);

      const missing = await b(`${dir}/b`, ["pull", `${reg.host}/bydigest:nope`], `${dir}/cfg`);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /manifest unknown/);
      assert.equal(missing.stderr.trim().split("\n").length, 1);
      const noRepo = await b(`${dir}/b`, ["pull", `${reg.host}/absent`], `${dir}/cfg`);
      assert.equal(noRepo.code, 1);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("push mounts a blob from another repository of the same registry", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const first = `${reg.host}/one:latest`;
      await importBusybox(`${dir}/a`, first, dir);
      ok(await b(`${dir}/a`, ["push", first], `${dir}/cfg`));
      ok(await b(`${dir}/a`, ["tag", first, `${reg.host}/two:latest`], `${dir}/cfg`));
      reg.requests.length = 0;
      const out = ok(await b(`${dir}/a`, ["push", `${reg.host}/two:latest`], `${dir}/cfg`));
      assert.match(out.stdout, /^[0-9a-f]{12}: Mounted from one$/m);
      assert.ok(reg.requests.some((r) => r.path.includes("mount=") && r.path.includes("from=one")));
      assert.equal(blobWrites(reg.requests).filter((r) => r.method !== "POST").length, 0);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("push gzips an uncompressed layer once and the pull gives the same image", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const name = `${reg.host}/plain:latest`;
      const id = await importBusybox(`${dir}/a`, name, dir, false);
      ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
      const res = await fetch(`${reg.url}/v2/plain/manifests/latest`, {
        headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      const manifest = await res.json() as { layers: { mediaType: string }[] };
      assert.equal(manifest.layers[0]!.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
      const blobs = [...Deno.readDirSync(`${dir}/a/blobs/sha256`)].length;
      const meta = JSON.parse(Deno.readTextFileSync(`${dir}/a/distribution.json`));
      assert.equal(Object.keys(meta.compressed).length, 1);

      ok(await b(`${dir}/a`, ["tag", name, `${reg.host}/plain:again`], `${dir}/cfg`));
      reg.requests.length = 0;
      const again = ok(await b(`${dir}/a`, ["push", `${reg.host}/plain:again`], `${dir}/cfg`));
      assert.match(again.stdout, /Layer already exists/);
      assert.equal([...Deno.readDirSync(`${dir}/a/blobs/sha256`)].length, blobs);
      assert.deepEqual(blobWrites(reg.requests), []);

      ok(await b(`${dir}/b`, ["pull", name], `${dir}/cfg`));
      assert.equal((await inspect(`${dir}/b`, name)).Id, id);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("push and pull --all-tags, and -q prints only the name", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const repo = `${reg.host}/multi`;
      await importBusybox(`${dir}/a`, `${repo}:1`, dir);
      ok(await b(`${dir}/a`, ["tag", `${repo}:1`, `${repo}:2`], `${dir}/cfg`));
      const pushed = ok(await b(`${dir}/a`, ["push", "-a", repo], `${dir}/cfg`));
      assert.match(pushed.stdout, /^1: digest: sha256:/m);
      assert.match(pushed.stdout, /^2: digest: sha256:/m);
      const pulled = ok(await b(`${dir}/b`, ["pull", "-a", repo], `${dir}/cfg`));
      assert.match(pulled.stdout, new RegExp(`${repo}\n$`));
      const images = ok(
        await b(`${dir}/b`, ["images", "--format", "{{.Tag}}", repo], `${dir}/cfg`),
      );
      assert.deepEqual(images.stdout.trim().split("\n").sort(), ["1", "2"]);
      const quiet = ok(await b(`${dir}/c`, ["pull", "-q", `${repo}:2`], `${dir}/cfg`));
      assert.equal(quiet.stdout, `${repo}:2\n`);
    } finally {
      await reg.close();
    }
  });
});

const COMPRESSORS: [string, Record<string, string>][] = [
  ["igzip (isal, which setup installs)", {}],
  ["zlib workers", { BERTH_IGZIP: "0" }],
];
for (const [how, env] of COMPRESSORS) {
  Deno.test(`push gzips a large layer into one valid gzip member with ${how}`, async () => {
    // The igzip case must not quietly fall back to zlib.
    if (env.BERTH_IGZIP === undefined) assert.ok(have("igzip"), "igzip is installed (Debian isal)");
    await withTempDir(async (dir) => {
      const reg = startRegistry(`${dir}/reg`);
      try {
        // ~13 MB: several 4 MB blocks for the compression workers, text and random data.
        await Deno.mkdir(`${dir}/tree`);
        await Deno.writeTextFile(`${dir}/tree/text`, "some text to compress\n".repeat(300_000));
        const random = new Uint8Array(6 * 1024 * 1024);
        for (let off = 0; off < random.length; off += 65536) {
          crypto.getRandomValues(random.subarray(off, off + 65536));
        }
        await Deno.writeFile(`${dir}/tree/random`, random);
        const tar = await run("tar", ["-C", `${dir}/tree`, "-cf", `${dir}/big.tar`, "."]);
        assert.equal(tar.code, 0, tar.stderr);
        const name = `${reg.host}/blocks:latest`;
        const id = ok(await berth(`${dir}/a`, ["import", `${dir}/big.tar`, name])).stdout.trim();
        ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`, { env }));
        const meta = JSON.parse(await Deno.readTextFile(`${dir}/a/distribution.json`));
        const gz = `${dir}/a/blobs/sha256/${
          (Object.values(meta.compressed)[0] as string).slice(7)
        }`;
        const check = await run("gzip", ["-t", gz]);
        assert.equal(check.code, 0, check.stderr);
        // One member: gzip's trailer (CRC-32 and size of the whole tar) ends the file.
        const bytes = await Deno.readFile(gz);
        const isize = new DataView(bytes.buffer).getUint32(bytes.byteLength - 4, true);
        assert.equal(isize, (await Deno.stat(`${dir}/big.tar`)).size % 2 ** 32);
        ok(await b(`${dir}/b`, ["pull", name], `${dir}/cfg`));
        assert.equal((await inspect(`${dir}/b`, name)).Id, id);
        // A second push sends nothing: the compressed blob was kept.
        const again = ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`, { env }));
        assert.match(again.stdout, /Layer already exists/);
      } finally {
        await reg.close();
      }
    });
  });
}
