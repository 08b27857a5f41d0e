/**
 * Hostile archives for `import` and `load`: a layer that lies about its diff
 * ID is refused with nothing stored, whether or not the store already has
 * that diff ID; a gzip bomb imports and loads in bounded memory; a layer
 * larger than the free space fails cleanly.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import {
  berth,
  berthArgs,
  listDir,
  makeRootfs,
  REPO,
  type Run,
  run,
  withTempDir,
} from "./_helpers.ts";

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
 * `layerDigest` and `layerSize` (by default the layer's real ones).
 */
async function ociArchive(
  dir: string,
  out: string,
  image: {
    config: Uint8Array;
    layer: Uint8Array;
    tag: string;
    layerDigest?: string;
    layerSize?: number;
  },
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
      size: image.layerSize ?? image.layer.byteLength,
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

Deno.test("load refuses a layer that lies about its diff ID or size, also when the store has that diff ID, and stores nothing", async () => {
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
      [
        "OCI archive, true layer under a descriptor with another size",
        root,
        () =>
          ociArchive(`${dir}/a6`, `${dir}/a6.tar`, {
            config: otherConfig,
            layer: baseLayer,
            tag: "liar:6",
            layerSize: baseLayer.byteLength + 1,
          }),
      ],
    ];
    for (const [i, [what, target, make]] of cases.entries()) {
      await make();
      assert.equal((await berth(target, ["images", "-q"])).code, 0);
      const before = snapshot(target);
      const out = await berth(target, ["load", "-i", `${dir}/a${i + 1}.tar`]);
      assert.equal(out.code, 1, `${what}: ${out.stdout}${out.stderr}`);
      oneLine(out.stderr);
      assert.match(
        out.stderr,
        /Digest mismatch for (layer 1 \(diff ID\)|blob)|is \d+ bytes, its descriptor says \d+$/m,
        what,
      );
      assert.deepEqual(snapshot(target), before, `${what}: nothing stored`);
      assert.deepEqual(listDir(`${target}/tmp`), [], `${what}: tmp/ is empty`);
    }
    const images = await berth(root, ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert.equal(images.stdout, "base:latest\n");
    const saved = await berth(root, ["save", "-o", `${dir}/base.tar`, "base"]);
    assert.equal(saved.code, 0, saved.stderr);
  });
});

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A ustar header for a regular file `name` of `size` bytes. */
function tarHeader(name: string, size: number): Uint8Array {
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, `${size.toString(8).padStart(11, "0")}\0`);
  put(136, "00000000000\0");
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\0");
  put(263, "00");
  put(148, `${header.reduce((sum, b) => sum + b, 0).toString(8).padStart(6, "0")}\0 `);
  return header;
}

/**
 * Writes a gzip'd tar holding one file of `size` zeros (a whole number of
 * MiB) as a run of gzip members (RFC 1952 allows several): a few MB on disk,
 * made without the inflated bytes ever existing.
 * @returns the diff ID of the layer (sha256 of the uncompressed tar)
 */
function writeGzipBomb(path: string, size: number): string {
  const file = Deno.openSync(path, { write: true, createNew: true });
  const hash = createHash("sha256");
  const write = (bytes: Uint8Array) => {
    for (let n = 0; n < bytes.length;) n += file.writeSync(bytes.subarray(n));
  };
  try {
    const header = tarHeader("zero", size);
    write(gzipSync(header));
    hash.update(header);
    const zeros = new Uint8Array(MiB);
    const member = gzipSync(zeros, { level: 9 });
    for (let i = 0; i < size / MiB; i++) {
      write(member);
      hash.update(zeros);
    }
    const end = new Uint8Array(1024);
    write(gzipSync(end));
    hash.update(end);
  } finally {
    file.close();
  }
  return `sha256:${hash.digest("hex")}`;
}

/**
 * Runs berth like {@linkcode berth}, polling the kernel's high-water mark of
 * its resident memory (VmHWM) every 50 ms: the peak holds between polls, so
 * only the last moments before exit can go unseen.
 */
async function berthPeak(
  root: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Run & { peakMiB: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: berthArgs(root, args),
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  let peakKiB = 0;
  const poll = () => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status);
      if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
    } catch {
      // exited
    }
  };
  const timer = setInterval(poll, 50);
  let out: Deno.CommandOutput;
  try {
    out = await child.output();
  } finally {
    clearInterval(timer);
  }
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    peakMiB: peakKiB / 1024,
  };
}

/** The one file of the extracted layer `chain` of a store. */
function extractedSize(root: string, name: string): number[] {
  return listDir(`${root}/layers`).flatMap((chain) => {
    try {
      return [Deno.statSync(`${root}/layers/${chain}/diff/${name}`).size];
    } catch {
      return [];
    }
  });
}

const PEAK_LIMIT_MIB = 200;

Deno.test("a gzip bomb (3 GiB of zeros in 3 MB) imports and loads in under 200 MB of RSS", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const diffId = writeGzipBomb(`${dir}/bomb.tar.gz`, 3 * GiB);
    const bomb = Deno.readFileSync(`${dir}/bomb.tar.gz`);
    assert.ok(bomb.byteLength < 8 * MiB);

    const imported = await berthPeak(root, ["import", `${dir}/bomb.tar.gz`, "bomb"]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.ok(imported.peakMiB > 20, `VmHWM was read: ${imported.peakMiB} MiB`);
    assert.ok(
      imported.peakMiB < PEAK_LIMIT_MIB,
      `import peaked at ${imported.peakMiB.toFixed(0)} MiB RSS`,
    );
    assert.deepEqual(extractedSize(root, "zero"), [3 * GiB]);
    const config = Deno.readFileSync(`${root}/blobs/sha256/${imported.stdout.trim().slice(7)}`);
    const parsed = JSON.parse(new TextDecoder().decode(config));
    assert.deepEqual(parsed.rootfs.diff_ids, [diffId]);

    // load into an empty store extracts it; node:zlib inflates instead of igzip.
    await dockerArchive(`${dir}/a`, `${dir}/bomb-docker.tar`, { config, layer: bomb, tag: "bomb" });
    const fresh = `${dir}/fresh`;
    const loaded = await berthPeak(fresh, ["load", "-i", `${dir}/bomb-docker.tar`], {
      BERTH_IGZIP: "0",
    });
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.ok(loaded.peakMiB > 20, `VmHWM was read: ${loaded.peakMiB} MiB`);
    assert.ok(
      loaded.peakMiB < PEAK_LIMIT_MIB,
      `load (node:zlib) peaked at ${loaded.peakMiB.toFixed(0)} MiB RSS`,
    );
    assert.deepEqual(extractedSize(fresh, "zero"), [3 * GiB]);
    await Deno.remove(fresh, { recursive: true });

    // load of another image over the same layer hashes it without extracting it.
    parsed.config = { ...parsed.config, Labels: { again: "1" } };
    const relabelled = new TextEncoder().encode(JSON.stringify(parsed));
    await ociArchive(`${dir}/b`, `${dir}/bomb-oci.tar`, {
      config: relabelled,
      layer: bomb,
      tag: "bomb:again",
    });
    const hashed = await berthPeak(root, ["load", "-i", `${dir}/bomb-oci.tar`]);
    assert.equal(hashed.code, 0, hashed.stderr);
    assert.equal(hashed.stdout, "Loaded image: bomb:again\n");
    assert.ok(
      hashed.peakMiB < PEAK_LIMIT_MIB,
      `load (layer known) peaked at ${hashed.peakMiB.toFixed(0)} MiB RSS`,
    );
    assert.deepEqual(listDir(`${root}/tmp`), []);
  });
});

Deno.test("a layer larger than the free space fails import and load with one line and stores nothing", async () => {
  await withTempDir(async (dir) => {
    const diffId = writeGzipBomb(`${dir}/bomb.tar.gz`, 256 * MiB);
    const config = new TextEncoder().encode(JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [diffId] },
    }));
    const layer = Deno.readFileSync(`${dir}/bomb.tar.gz`);
    await dockerArchive(`${dir}/a`, `${dir}/bomb-docker.tar`, { config, layer, tag: "bomb" });
    await ociArchive(`${dir}/b`, `${dir}/bomb-oci.tar`, { config, layer, tag: "bomb:oci" });
    const root = `${dir}/small`;
    Deno.mkdirSync(root);
    const mount = await run("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", root]);
    assert.equal(mount.code, 0, mount.stderr);
    try {
      assert.equal((await berth(root, ["images"])).code, 0);
      const before = snapshot(root);
      const attempts: [string, string[]][] = [
        ["import", ["import", `${dir}/bomb.tar.gz`, "bomb"]],
        ["load of a docker-archive", ["load", "-i", `${dir}/bomb-docker.tar`]],
        ["load of an OCI archive", ["load", "-i", `${dir}/bomb-oci.tar`]],
      ];
      for (const [what, args] of attempts) {
        const out = await berth(root, args);
        assert.equal(out.code, 1, `${what}: ${out.stdout}${out.stderr}`);
        oneLine(out.stderr);
        assert.match(out.stderr, /^Error: Cannot (import|load) ".*": .*No space left on device/);
        assert.deepEqual(snapshot(root), before, `${what}: nothing stored`);
        assert.deepEqual(listDir(`${root}/tmp`), [], `${what}: tmp/ is empty`);
      }
    } finally {
      await run("umount", [root]);
    }
  });
});
