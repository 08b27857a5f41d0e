/**
 * Hostile archives for `import` and `load`: a layer that lies about its diff
 * ID is refused with nothing stored, whether or not the store already has
 * that diff ID; a gzip bomb imports and loads in bounded memory; a layer
 * larger than the free space fails cleanly.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { berth, listDir, makeRootfs, run, withTempDir } from "./_helpers.ts";

/** Every file of the store except the lock, with sizes: what must not change. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of Deno.readDirSync(dir)) {
      const path = `${dir}/${e.name}`;
      const name = `${rel}${e.name}`;
      if (name === "lock") continue;
      if (e.isDirectory) walk(path, `${name}/`);
      else out.push(`${name} ${Deno.statSync(path).size}`);
    }
  };
  walk(root, "");
  return out.sort();
}

function oneLine(stderr: string): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(stderr)}`);
  assert.match(stderr, /^Error: /);
}

function hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Tars the contents of `dir` into `out`. */
async function tarDir(dir: string, out: string): Promise<void> {
  const r = await run("tar", ["--numeric-owner", "-C", dir, "-cf", out, "."]);
  assert.equal(r.code, 0, r.stderr);
}

/** A docker-archive (`docker save` layout) of one image, tagged `tag`. */
async function dockerArchive(
  dir: string,
  out: string,
  image: { config: Uint8Array; layer: Uint8Array; tag: string },
): Promise<void> {
  Deno.mkdirSync(`${dir}/layer0`, { recursive: true });
  const configName = `${hex(image.config)}.json`;
  Deno.writeFileSync(`${dir}/${configName}`, image.config);
  Deno.writeFileSync(`${dir}/layer0/layer.tar`, image.layer);
  const manifest = [{ Config: configName, RepoTags: [image.tag], Layers: ["layer0/layer.tar"] }];
  Deno.writeTextFileSync(`${dir}/manifest.json`, JSON.stringify(manifest));
  await tarDir(dir, out);
}

/**
 * An OCI layout archive of one image; the layer's descriptor names
 * `layerDigest` (by default the layer's real digest).
 */
async function ociArchive(
  dir: string,
  out: string,
  image: { config: Uint8Array; layer: Uint8Array; tag: string; layerDigest?: string },
): Promise<void> {
  const blobs = `${dir}/blobs/sha256`;
  Deno.mkdirSync(blobs, { recursive: true });
  const layerHex = image.layerDigest?.slice(7) ?? hex(image.layer);
  Deno.writeFileSync(`${blobs}/${layerHex}`, image.layer);
  Deno.writeFileSync(`${blobs}/${hex(image.config)}`, image.config);
  const manifest = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: `sha256:${hex(image.config)}`,
      size: image.config.byteLength,
    },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: `sha256:${layerHex}`,
      size: image.layer.byteLength,
    }],
  }));
  Deno.writeFileSync(`${blobs}/${hex(manifest)}`, manifest);
  Deno.writeTextFileSync(`${dir}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
  Deno.writeTextFileSync(
    `${dir}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: `sha256:${hex(manifest)}`,
        size: manifest.byteLength,
        annotations: { "io.containerd.image.name": image.tag },
      }],
    }),
  );
  await tarDir(dir, out);
}

Deno.test("load refuses a layer that lies about its diff ID, also when the store has that diff ID, and stores nothing", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const rootfs = await makeRootfs(`${dir}/rootfs.tar`);
    const imported = await berth(root, ["import", rootfs, "base"]);
    assert.equal(imported.code, 0, imported.stderr);
    const baseConfig = Deno.readFileSync(`${root}/blobs/sha256/${imported.stdout.trim().slice(7)}`);
    const parsed = JSON.parse(new TextDecoder().decode(baseConfig));
    assert.deepEqual(parsed.rootfs.diff_ids, [`sha256:${hex(Deno.readFileSync(rootfs))}`]);
    // Another image (a label more) over the same diff ID as base.
    parsed.config = { ...parsed.config, Labels: { liar: "1" } };
    const otherConfig = new TextEncoder().encode(JSON.stringify(parsed));

    Deno.mkdirSync(`${dir}/evil`);
    Deno.writeTextFileSync(`${dir}/evil/evil`, "not what the config says\n");
    await tarDir(`${dir}/evil`, `${dir}/evil.tar`);
    const evil = Deno.readFileSync(`${dir}/evil.tar`);
    const baseLayer = Deno.readFileSync(rootfs);

    const cases: [string, string, () => Promise<void>][] = [
      ["docker-archive, new config", root, () =>
        dockerArchive(`${dir}/a1`, `${dir}/a1.tar`, {
          config: otherConfig,
          layer: evil,
          tag: "liar:1",
        })],
      [
        "docker-archive, base's own config",
        root,
        () =>
          dockerArchive(`${dir}/a2`, `${dir}/a2.tar`, {
            config: baseConfig,
            layer: evil,
            tag: "liar:2",
          }),
      ],
      [
        "docker-archive into an empty store",
        `${dir}/fresh`,
        () =>
          dockerArchive(`${dir}/a3`, `${dir}/a3.tar`, {
            config: otherConfig,
            layer: evil,
            tag: "liar:3",
          }),
      ],
      [
        "OCI archive, layer blob true to its descriptor",
        root,
        () =>
          ociArchive(`${dir}/a4`, `${dir}/a4.tar`, {
            config: otherConfig,
            layer: evil,
            tag: "liar:4",
          }),
      ],
      [
        "OCI archive, layer blob named as base's layer blob",
        root,
        () =>
          ociArchive(`${dir}/a5`, `${dir}/a5.tar`, {
            config: otherConfig,
            layer: evil,
            tag: "liar:5",
            layerDigest: `sha256:${hex(baseLayer)}`,
          }),
      ],
    ];
    for (const [i, [what, target, make]] of cases.entries()) {
      await make();
      assert.equal((await berth(target, ["images", "-q"])).code, 0);
      const before = snapshot(target);
      const out = await berth(target, ["load", "-i", `${dir}/a${i + 1}.tar`]);
      assert.equal(out.code, 125, `${what}: ${out.stdout}${out.stderr}`);
      oneLine(out.stderr);
      assert.match(out.stderr, /Digest mismatch for (layer 1 \(diff ID\)|blob)/, what);
      assert.deepEqual(snapshot(target), before, `${what}: nothing stored`);
      assert.deepEqual(listDir(`${target}/tmp`), [], `${what}: tmp/ is empty`);
    }
    const images = await berth(root, ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert.equal(images.stdout, "base:latest\n");
    const saved = await berth(root, ["save", "-o", `${dir}/base.tar`, "base"]);
    assert.equal(saved.code, 0, saved.stderr);
  });
});
