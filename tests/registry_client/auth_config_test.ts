/**
 * RegistryConfig: Docker-compatible config.json handling, Docker Hub's auth
 * key, insecure registries from the file and the environment, mirrors.
 */
import assert from "node:assert/strict";
import { authKey, RegistryConfig } from "../../lib/engine/mod.ts";
import { withTempDir } from "../_helpers.ts";

Deno.test("authKey() names Docker Hub as Docker does and strips schemes elsewhere", () => {
  assert.equal(authKey("docker.io"), "https://index.docker.io/v1/");
  assert.equal(authKey("https://index.docker.io/v1/"), "https://index.docker.io/v1/");
  assert.equal(authKey("registry-1.docker.io"), "https://index.docker.io/v1/");
  assert.equal(authKey("http://localhost:5000/"), "localhost:5000");
  assert.equal(authKey("quay.io"), "quay.io");
});

Deno.test("RegistryConfig saves and removes credentials and keeps other keys", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ psFormat: "table {{.ID}}", "insecure-registries": ["reg.lan:5000"] }),
    );
    const config = RegistryConfig.load(dir);
    config.saveAuth("reg.lan:5000", { username: "u", password: "p:w" });
    const again = RegistryConfig.load(dir);
    assert.deepEqual(await again.credentials("reg.lan:5000"), { username: "u", password: "p:w" });
    assert.equal(await again.credentials("other:5000"), undefined);
    const file = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.equal(file.psFormat, "table {{.ID}}");
    assert.equal(file.auths["reg.lan:5000"].auth, btoa("u:p:w"));
    assert.equal(again.removeAuth("reg.lan:5000"), true);
    assert.equal(await RegistryConfig.load(dir).credentials("reg.lan:5000"), undefined);
    assert.equal(again.removeAuth("reg.lan:5000"), false);
  });
});

Deno.test("RegistryConfig settings merge insecure registries of the file and BERTH_INSECURE_REGISTRIES", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({
        "insecure-registries": ["a.lan:5000"],
        "registry-mirrors": ["http://127.0.0.1:5001"],
      }),
    );
    const before = Deno.env.get("BERTH_INSECURE_REGISTRIES");
    Deno.env.set("BERTH_INSECURE_REGISTRIES", "b.lan:443, c.lan");
    try {
      const settings = RegistryConfig.load(dir).settings();
      assert.deepEqual(settings.insecure, ["b.lan:443", "c.lan", "a.lan:5000"]);
      // dockerd's list form mirrors Docker Hub.
      assert.deepEqual(settings.mirrors, { "docker.io": ["http://127.0.0.1:5001"] });
      const client = RegistryConfig.load(dir).client("c.lan");
      assert.equal(client.transport.endpoints.origin, "http://c.lan");
      assert.equal(
        RegistryConfig.load(dir).client("d.lan").transport.endpoints.origin,
        "https://d.lan",
      );
    } finally {
      if (before === undefined) Deno.env.delete("BERTH_INSECURE_REGISTRIES");
      else Deno.env.set("BERTH_INSECURE_REGISTRIES", before);
    }
  });
});

Deno.test("RegistryConfig refuses a config.json that is not a JSON object", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/config.json`, "[1,2]");
    assert.throws(() => RegistryConfig.load(dir), /Invalid config file/);
  });
});
