/**
 * `--insecure-registry`: a registry that is not on loopback by name is
 * reached over HTTPS unless it is named insecure (by the flag,
 * `BERTH_INSECURE_REGISTRIES` or the config file). The registry listens on
 * 127.0.0.1 only; berth reaches it as `insecure-registry.test`, a name its
 * own mount namespace maps to 127.0.0.1 with a private /etc/hosts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { berthArgs, REPO, type Run, withTempDir } from "../_helpers.ts";
import { importBusybox, inspect, ok, startRegistry } from "./_helpers.ts";

const NAME = "insecure-registry.test";

/** berth in a private mount namespace whose /etc/hosts names 127.0.0.1 `NAME`. */
async function b(
  hosts: string,
  root: string,
  args: string[],
  config: string,
  env: Record<string, string> = {},
): Promise<Run> {
  const out = await new Deno.Command("unshare", {
    args: [
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      'mount --bind "$0" /etc/hosts && exec "$@"',
      hosts,
      Deno.execPath(),
      ...berthArgs(root, args),
    ],
    cwd: REPO,
    stdin: "null",
    env: { NO_COLOR: "1", BERTH_CONFIG: config, ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("push and pull reach a plain-HTTP registry by a non-loopback name only when it is named insecure", async () => {
  await withTempDir(async (dir) => {
    const hosts = `${dir}/hosts`;
    await Deno.writeTextFile(hosts, `127.0.0.1 localhost\n127.0.0.1 ${NAME}\n`);
    const reg = startRegistry(`${dir}/reg`);
    try {
      const host = `${NAME}:${reg.host.split(":")[1]}`;
      const name = `${host}/insecure/busybox:1`;
      const id = await importBusybox(`${dir}/a`, name, dir);
      // HTTPS to a plain-HTTP server: the TLS handshake fails.
      const refused = await b(hosts, `${dir}/a`, ["push", name], `${dir}/cfg`);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`Cannot reach registry "${host}"`));
      assert.equal(reg.requests.length, 0);

      ok(await b(hosts, `${dir}/a`, ["--insecure-registry", host, "push", name], `${dir}/cfg`));
      assert.ok(reg.requests.length > 0);
      // Repeatable, and a scheme is tolerated as dockerd does.
      const flags = ["--insecure-registry", "other:5000", "--insecure-registry", `http://${host}/`];
      ok(await b(hosts, `${dir}/b`, [...flags, "pull", name], `${dir}/cfg`));
      assert.equal((await inspect(`${dir}/b`, name)).Id, id);

      // The environment variable and the config file say the same.
      const env = { BERTH_INSECURE_REGISTRIES: `x:1, ${host}` };
      ok(await b(hosts, `${dir}/c`, ["pull", name], `${dir}/cfg`, env));
      await Deno.mkdir(`${dir}/cfg2`);
      await Deno.writeTextFile(
        `${dir}/cfg2/config.json`,
        JSON.stringify({ "insecure-registries": [host] }),
      );
      ok(await b(hosts, `${dir}/d`, ["pull", name], `${dir}/cfg2`));
      const without = await b(hosts, `${dir}/e`, ["pull", name], `${dir}/cfg`);
      assert.equal(without.code, 1);
    } finally {
      await reg.close();
    }
  });
});
