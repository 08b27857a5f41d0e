/**
 * Archives exchanged with the real Docker engine: `docker load` takes what
 * `berth save` writes, and `berth load` takes what `docker save` writes, with
 * the same image IDs. The test starts its own dockerd (Debian's docker.io,
 * installed by scripts/setup.sh) on a private socket, with its networking
 * off so that it touches no bridge or firewall rule of the host.
 */
import assert from "node:assert/strict";
import { berth, have, makeRootfs, run, withTempDir } from "./_helpers.ts";

async function withDockerd(
  dir: string,
  fn: (
    docker: (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>,
  ) => Promise<void>,
) {
  assert.ok(have("dockerd") && have("docker"), "dockerd is missing: run scripts/setup.sh");
  const sock = `${dir}/docker.sock`;
  const daemon = new Deno.Command("dockerd", {
    args: [
      "--data-root",
      `${dir}/data`,
      "--exec-root",
      `${dir}/exec`,
      "--pidfile",
      `${dir}/dockerd.pid`,
      "-H",
      `unix://${sock}`,
      "--bridge=none",
      "--iptables=false",
      "--ip6tables=false",
      "--ip-masq=false",
      "--containerd-namespace",
      "berth-test",
      "--containerd-plugins-namespace",
      "berth-test-plugins",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const docker = (...args: string[]) => run("docker", ["-H", `unix://${sock}`, ...args]);
  try {
    for (let i = 0; i < 200; i++) {
      if ((await docker("version", "--format", "{{.Server.Version}}")).code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await fn(docker);
  } finally {
    daemon.kill("SIGTERM");
    await daemon.stderr.cancel();
    await daemon.status;
  }
}

Deno.test("docker load takes berth's save and berth load takes docker's save, IDs intact", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
    let dockerId = "";
    const imported = await berth(root, [
      "import",
      "--change",
      'CMD ["sh"]',
      tarball,
      "from-berth:1",
    ]);
    assert.equal(imported.code, 0, imported.stderr);
    const id = imported.stdout.trim();
    assert.equal((await berth(root, ["save", "-o", `${dir}/berth.tar`, "from-berth:1"])).code, 0);

    await withDockerd(dir, async (docker) => {
      const load = await docker("load", "-i", `${dir}/berth.tar`);
      assert.equal(load.code, 0, load.stderr);
      assert.equal(load.stdout.trim(), "Loaded image: from-berth:1");
      assert.equal(
        (await docker("image", "inspect", "--format", "{{.Id}}", "from-berth:1")).stdout.trim(),
        id,
      );

      const dimport = await docker(
        "import",
        "--change",
        "ENV FROM=docker",
        tarball,
        "from-docker:2",
      );
      assert.equal(dimport.code, 0, dimport.stderr);
      dockerId = dimport.stdout.trim();
      assert.equal((await docker("save", "-o", `${dir}/docker.tar`, "from-docker:2")).code, 0);
    });

    const load = await berth(root, ["load", "-i", `${dir}/docker.tar`]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout, "Loaded image: from-docker:2\n");
    const [info] = JSON.parse((await berth(root, ["image", "inspect", "from-docker:2"])).stdout);
    assert.equal(info.Id, dockerId);
    assert.deepEqual(info.Config.Env, ["FROM=docker"]);
    assert.equal(info.RootFS.Layers.length, 1);
  });
});
