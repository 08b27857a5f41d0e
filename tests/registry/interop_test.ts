import assert from "node:assert/strict";
import { selfSignedCert } from "../_tls.ts";
import { BUSYBOX, makeBusyboxLayout } from "./_oci_layout.ts";
import bcrypt from "bcryptjs";
import { Htpasswd } from "../../lib/registry/mod.ts";
import { startRegistry } from "./_helpers.ts";

/**
 * podman's settings on these hosts (as /work/shared/bench/podman-containers.conf):
 * runc, since crun refuses a hybrid cgroup layout, and ulimits root may set
 * without CAP_SYS_RESOURCE. Written per test so the test needs no shared file.
 */
const PODMAN_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
`;

function installed(tool: string, args = ["--version"]): boolean {
  try {
    return new Deno.Command(tool, { args, stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}${text}`,
    );
  }
  return text;
}

const haveBusybox = (() => {
  try {
    return Deno.statSync(BUSYBOX).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "skopeo copies an OCI layout into the registry and back out with the same manifest digest",
  ignore: !installed("skopeo") || !haveBusybox,
  async fn() {
    const reg = await startRegistry();
    const work = await Deno.makeTempDir({ prefix: "berth-skopeo-" });
    try {
      const digest = await makeBusyboxLayout(`${work}/src`, "1");
      const host = `${reg.server.hostname}:${reg.server.port}`;
      await run("skopeo", [
        "copy",
        "--dest-tls-verify=false",
        `oci:${work}/src:1`,
        `docker://${host}/test/busybox:1`,
      ]);
      const inspect = JSON.parse(
        await run("skopeo", ["inspect", "--tls-verify=false", `docker://${host}/test/busybox:1`]),
      );
      assert.equal(inspect.Digest, digest);
      assert.equal(inspect.Layers.length, 1);
      await run("skopeo", [
        "copy",
        "--src-tls-verify=false",
        `docker://${host}/test/busybox:1`,
        `oci:${work}/out:1`,
      ]);
      const index = JSON.parse(await Deno.readTextFile(`${work}/out/index.json`));
      assert.equal(index.manifests[0].digest, digest);
      const tags = JSON.parse(
        await run("skopeo", ["list-tags", "--tls-verify=false", `docker://${host}/test/busybox`]),
      );
      assert.deepEqual(tags.Tags, ["1"]);
      // Docker's schema 2 types, converted by skopeo, are stored and served as such.
      const v2s2 = `docker://${host}/test/busybox:docker`;
      await run("skopeo", [
        "copy",
        "--dest-tls-verify=false",
        "--format",
        "v2s2",
        `oci:${work}/src:1`,
        v2s2,
      ]);
      const raw = JSON.parse(await run("skopeo", ["inspect", "--raw", "--tls-verify=false", v2s2]));
      assert.equal(raw.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
      const res = await fetch(`${reg.url}/v2/test/busybox/manifests/docker`, {
        headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
      });
      assert.equal(
        res.headers.get("Content-Type"),
        "application/vnd.docker.distribution.manifest.v2+json",
      );
      await res.body?.cancel();
      // An index: skopeo pushes the child manifest first, then the index.
      const multi = `docker://${host}/test/multi:1`;
      await run("skopeo", [
        "copy",
        "--all",
        "--dest-tls-verify=false",
        `oci:${work}/src:1-index`,
        multi,
      ]);
      const rawIndex = JSON.parse(
        await run("skopeo", ["inspect", "--raw", "--tls-verify=false", multi]),
      );
      assert.equal(rawIndex.mediaType, "application/vnd.oci.image.index.v1+json");
      assert.equal(rawIndex.manifests[0].digest, digest);
    } finally {
      await reg.close();
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test({
  name: "podman pulls from and pushes to the registry",
  ignore: !installed("podman") || !installed("skopeo") || !haveBusybox,
  async fn() {
    const reg = await startRegistry();
    const work = await Deno.makeTempDir({ prefix: "berth-podman-" });
    await Deno.writeTextFile(`${work}/containers.conf`, PODMAN_CONF);
    const podman = (...args: string[]) =>
      run("podman", [
        "--root",
        `${work}/root`,
        "--runroot",
        `${work}/runroot`,
        "--storage-driver",
        "vfs",
        ...args,
      ], { CONTAINERS_CONF: `${work}/containers.conf` });
    try {
      const digest = await makeBusyboxLayout(`${work}/src`, "1");
      const host = `${reg.server.hostname}:${reg.server.port}`;
      await run("skopeo", [
        "copy",
        "--dest-tls-verify=false",
        `oci:${work}/src:1`,
        `docker://${host}/test/busybox:1`,
      ]);
      await podman("pull", "--tls-verify=false", `${host}/test/busybox:1`);
      const pulled = await podman(
        "image",
        "inspect",
        "--format",
        "{{.Digest}}",
        `${host}/test/busybox:1`,
      );
      assert.equal(pulled.trim(), digest);
      await podman("tag", `${host}/test/busybox:1`, `${host}/test/again:2`);
      await podman("push", "--tls-verify=false", `${host}/test/again:2`);
      const inspect = JSON.parse(
        await run("skopeo", ["inspect", "--tls-verify=false", `docker://${host}/test/again:2`]),
      );
      assert.equal(inspect.Layers.length, 1);
      await podman("rmi", "-a", "-f");
      await podman("pull", "--tls-verify=false", `${host}/test/again:2`);
    } finally {
      await reg.close();
      // Not `podman system reset`: that also removes the host's podman networks.
      await podman("rmi", "-a", "-f").catch(() => "");
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test({
  name: "skopeo pushes over TLS with basic auth and is refused without credentials",
  ignore: !installed("skopeo") || !installed("openssl", ["version"]) || !haveBusybox,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "berth-skopeo-tls-" });
    try {
      const { cert, key } = await selfSignedCert(work);
      const auth = new Htpasswd(`pusher:${bcrypt.hashSync("pw", 4)}`);
      const reg = await startRegistry({
        cert,
        key,
        authenticate: auth.authenticator(),
      });
      try {
        const digest = await makeBusyboxLayout(`${work}/src`, "1");
        const dest = `docker://127.0.0.1:${reg.server.port}/secure/busybox:1`;
        await assert.rejects(
          run("skopeo", ["copy", "--dest-tls-verify=false", `oci:${work}/src:1`, dest]),
          /unauthorized|authentication required/i,
        );
        await run("skopeo", [
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          "pusher:pw",
          `oci:${work}/src:1`,
          dest,
        ]);
        const inspect = JSON.parse(
          await run("skopeo", ["inspect", "--tls-verify=false", "--creds", "pusher:pw", dest]),
        );
        assert.equal(inspect.Digest, digest);
      } finally {
        await reg.close();
      }
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
