/**
 * berth's store and archives read by the reference tools, and theirs read by
 * berth: skopeo and umoci (installed by scripts/setup.sh, so they run in CI).
 */
import assert from "node:assert/strict";
import { berth, have, makeRootfs, run, withTempDir } from "./_helpers.ts";

function requireTools(...tools: string[]): void {
  for (const tool of tools) assert.ok(have(tool), `${tool} is missing: run scripts/setup.sh`);
}

Deno.test("skopeo and umoci read berth's store as an OCI layout", async () => {
  requireTools("skopeo", "umoci");
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = await makeRootfs(`${dir}/rootfs.tar`);
    const imp = await berth(root, ["import", "--change", "WORKDIR /tmp", tarball, "busybox:oci"]);
    assert.equal(imp.code, 0, imp.stderr);
    const [info] = JSON.parse((await berth(root, ["image", "inspect", "busybox:oci"])).stdout);

    const inspected = await run("skopeo", [
      "inspect",
      "--config",
      `oci:${root}:docker.io/library/busybox:oci`,
    ]);
    assert.equal(inspected.code, 0, inspected.stderr);
    const config = JSON.parse(inspected.stdout);
    assert.deepEqual(config.rootfs.diff_ids, info.RootFS.Layers);
    assert.equal(config.config.WorkingDir, "/tmp");

    const umoci = await run("umoci", ["ls", "--layout", root]);
    assert.equal(umoci.code, 0, umoci.stderr);
    assert.ok(umoci.stdout.split("\n").includes("docker.io/library/busybox:oci"), umoci.stdout);
  });
});

Deno.test("skopeo reads berth's docker-archive, and skopeo's OCI archive loads with the same diff IDs", async () => {
  requireTools("skopeo");
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
    assert.equal((await berth(root, ["import", tarball, "busybox:interop"])).code, 0);
    const [info] = JSON.parse((await berth(root, ["image", "inspect", "busybox:interop"])).stdout);
    assert.equal(
      (await berth(root, ["save", "-o", `${dir}/docker.tar`, "busybox:interop"])).code,
      0,
    );

    const inspected = await run("skopeo", [
      "inspect",
      "--config",
      `docker-archive:${dir}/docker.tar`,
    ]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.deepEqual(JSON.parse(inspected.stdout).rootfs.diff_ids, info.RootFS.Layers);

    // skopeo converts Docker to OCI (the config changes, so does the ID), compressing the layer.
    const copy = await run("skopeo", [
      "copy",
      `docker-archive:${dir}/docker.tar`,
      `oci-archive:${dir}/skopeo-oci.tar:busybox:fromskopeo`,
    ]);
    assert.equal(copy.code, 0, copy.stderr);
    const fresh = `${dir}/fresh`;
    const load = await berth(fresh, ["load", "-i", `${dir}/skopeo-oci.tar`]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout, "Loaded image: busybox:fromskopeo\n");
    const [loaded] = JSON.parse(
      (await berth(fresh, ["image", "inspect", "busybox:fromskopeo"])).stdout,
    );
    assert.deepEqual(loaded.RootFS.Layers, info.RootFS.Layers);

    // And back: skopeo reads berth's OCI archive.
    assert.equal(
      (await berth(fresh, [
        "save",
        "--format",
        "oci",
        "-o",
        `${dir}/berth-oci.tar`,
        "busybox:fromskopeo",
      ])).code,
      0,
    );
    const back = await run("skopeo", [
      "inspect",
      "--config",
      `oci-archive:${dir}/berth-oci.tar:fromskopeo`,
    ]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(JSON.parse(back.stdout).rootfs.diff_ids, info.RootFS.Layers);
  });
});

Deno.test("an OCI archive written by umoci loads with its manifest digest intact", async () => {
  requireTools("umoci", "skopeo");
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = await makeRootfs(`${dir}/rootfs.tar`);
    assert.equal((await berth(root, ["import", tarball, "base:1"])).code, 0);
    // umoci unpacks berth's image, adds a layer, repacks into its own layout.
    const layout = `${dir}/layout`;
    assert.equal(
      (await run("skopeo", ["copy", `oci:${root}:docker.io/library/base:1`, `oci:${layout}:base`]))
        .code,
      0,
    );
    const bundle = `${dir}/bundle`;
    const unpack = await run("umoci", ["unpack", "--image", `${layout}:base`, bundle]);
    assert.equal(unpack.code, 0, unpack.stderr);
    Deno.writeTextFileSync(`${bundle}/rootfs/hello.txt`, "from umoci\n");
    const repack = await run("umoci", ["repack", "--image", `${layout}:base`, bundle]);
    assert.equal(repack.code, 0, repack.stderr);
    const tar = await run("tar", ["-C", layout, "-cf", `${dir}/umoci.tar`, "."]);
    assert.equal(tar.code, 0, tar.stderr);

    const fresh = `${dir}/fresh`;
    const load = await berth(fresh, ["load", "-i", `${dir}/umoci.tar`]);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /^Loaded image ID: sha256:[a-f0-9]{64}\n$/);
    const [info] = JSON.parse(
      (await berth(fresh, ["image", "inspect", load.stdout.trim().split(" ").pop()!])).stdout,
    );
    assert.equal(info.RootFS.Layers.length, 2);
    const index = JSON.parse(Deno.readTextFileSync(`${layout}/index.json`));
    const stored = JSON.parse(Deno.readTextFileSync(`${fresh}/index.json`));
    assert.equal(stored.manifests[0].digest, index.manifests[0].digest);
    const top = info.GraphDriver.Data.LowerDir.split(":")[0];
    assert.equal(Deno.readTextFileSync(`${top}/hello.txt`), "from umoci\n");
  });
});
