/**
 * berth's client against other implementations: the CNCF distribution
 * registry (`docker-registry`), skopeo reading what berth pushed and copying
 * Docker schema 2 images berth then pulls, podman pulling what berth pushed,
 * and an OCI index resolved to the platform's manifest.
 */
import assert from "node:assert/strict";
import { sha256 } from "../../lib/digest.ts";
import { have, run, withTempDir } from "../_helpers.ts";
import { b, importBusybox, inspect, ok, startRegistry } from "./_helpers.ts";

const PODMAN_CONF = "/work/shared/bench/podman-containers.conf";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts docker-registry on 127.0.0.1 over `dir`; returns its host and a stop function. */
async function distribution(dir: string): Promise<{ host: string; stop: () => Promise<void> }> {
  const port = freePort();
  await Deno.mkdir(`${dir}/data`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/config.yml`,
    `version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: ${dir}/data}}\n` +
      `http: {addr: 127.0.0.1:${port}}\n`,
  );
  const child = new Deno.Command("/usr/bin/docker-registry", {
    args: ["serve", `${dir}/config.yml`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
  };
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.body?.cancel();
      if (res.ok) return { host: `127.0.0.1:${port}`, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await stop();
  throw new Error("docker-registry did not start");
}

Deno.test({
  name: "berth pushes to and pulls from the CNCF registry, and skopeo reads what it pushed",
  ignore: !have("docker-registry") || !have("skopeo"),
  async fn() {
    await withTempDir(async (dir) => {
      const reg = await distribution(`${dir}/dist`);
      try {
        const name = `${reg.host}/interop/busybox:latest`;
        const id = await importBusybox(`${dir}/a`, name, dir);
        const pushed = ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
        const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)![1]!;
        const again = ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
        assert.match(again.stdout, /Layer already exists/);

        const seen = await run("skopeo", ["inspect", "--tls-verify=false", `docker://${name}`]);
        assert.equal(seen.code, 0, seen.stderr);
        const info = JSON.parse(seen.stdout);
        assert.equal(info.Digest, digest);
        assert.equal(info.Layers.length, 1);

        const pulled = ok(await b(`${dir}/b`, ["pull", name], `${dir}/cfg`));
        assert.match(pulled.stdout, /Pull complete/);
        const image = await inspect(`${dir}/b`, name);
        assert.equal(image.Id, id);
        assert.deepEqual(image.RepoDigests, [`${reg.host}/interop/busybox@${digest}`]);

        // A Docker schema 2 copy made by skopeo, pulled by berth.
        const v2 = `${reg.host}/interop/docker:v2s2`;
        const copy = await run("skopeo", [
          "copy",
          "--src-tls-verify=false",
          "--dest-tls-verify=false",
          "--format",
          "v2s2",
          `docker://${name}`,
          `docker://${v2}`,
        ]);
        assert.equal(copy.code, 0, copy.stderr);
        ok(await b(`${dir}/c`, ["pull", v2], `${dir}/cfg`));
        const docker = await inspect(`${dir}/c`, v2);
        assert.equal(docker.Id, id);

        // An uncompressed layer, gzipped while it streams to the registry.
        const plain = `${reg.host}/interop/plain:1`;
        const plainId = await importBusybox(`${dir}/d`, plain, dir, false);
        ok(await b(`${dir}/d`, ["push", plain], `${dir}/cfg`));
        const raw = await run("skopeo", [
          "inspect",
          "--raw",
          "--tls-verify=false",
          `docker://${plain}`,
        ]);
        assert.equal(raw.code, 0, raw.stderr);
        assert.equal(
          JSON.parse(raw.stdout).layers[0].mediaType,
          "application/vnd.oci.image.layer.v1.tar+gzip",
        );
        ok(await b(`${dir}/e`, ["pull", plain], `${dir}/cfg`));
        assert.equal((await inspect(`${dir}/e`, plain)).Id, plainId);
      } finally {
        await reg.stop();
      }
    });
  },
});

Deno.test("pull of an OCI index picks the platform's manifest and records the index digest", async () => {
  await withTempDir(async (dir) => {
    const reg = startRegistry(`${dir}/reg`);
    try {
      const name = `${reg.host}/multi:one`;
      const id = await importBusybox(`${dir}/a`, name, dir);
      const pushed = ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
      const digest = /digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(pushed.stdout)!;
      const arch = Deno.build.arch === "x86_64" ? "amd64" : "arm64";
      const index = new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [{
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: digest[1],
          size: Number(digest[2]),
          platform: { architecture: arch, os: "linux" },
        }],
      }));
      const res = await fetch(`${reg.url}/v2/multi/manifests/index`, {
        method: "PUT",
        headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" },
        body: index,
      });
      await res.body?.cancel();
      assert.equal(res.status, 201);
      const indexName = `${reg.host}/multi:index`;
      ok(await b(`${dir}/b`, ["pull", indexName], `${dir}/cfg`));
      const image = await inspect(`${dir}/b`, indexName);
      assert.equal(image.Id, id);
      assert.deepEqual(image.RepoDigests, [`${reg.host}/multi@${sha256(index)}`]);
      const other = await b(
        `${dir}/c`,
        ["pull", "--platform", "linux/s390x", indexName],
        `${dir}/cfg`,
      );
      assert.equal(other.code, 1);
      assert.match(other.stderr, /No matching manifest for linux\/s390x/);
    } finally {
      await reg.close();
    }
  });
});

Deno.test({
  name: "podman pulls an image berth pushed",
  ignore: !have("podman"),
  async fn() {
    await withTempDir(async (dir) => {
      const reg = startRegistry(`${dir}/reg`);
      const podman = (...args: string[]) =>
        new Deno.Command("podman", {
          args: [
            "--root",
            `${dir}/proot`,
            "--runroot",
            `${dir}/prun`,
            "--storage-driver",
            "vfs",
            ...args,
          ],
          env: { CONTAINERS_CONF: PODMAN_CONF },
          stdout: "piped",
          stderr: "piped",
        }).output();
      try {
        const name = `${reg.host}/podman/busybox:latest`;
        await importBusybox(`${dir}/a`, name, dir, false);
        const pushed = ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
        const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)![1]!;
        const pull = await podman("pull", "--tls-verify=false", name);
        assert.equal(pull.code, 0, new TextDecoder().decode(pull.stderr));
        const out = await podman("image", "inspect", "--format", "{{.Digest}}", name);
        assert.equal(new TextDecoder().decode(out.stdout).trim(), digest);
      } finally {
        await reg.close();
        await podman("rmi", "-a", "-f").catch(() => undefined);
      }
    });
  },
});
