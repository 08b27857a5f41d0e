/**
 * `--insecure-registry`: a registry that is not on loopback is reached over
 * HTTPS unless it is named insecure (by the flag, `BERTH_INSECURE_REGISTRIES`
 * or the config file); berth's registry serves plain HTTP on this host's own
 * non-loopback address.
 *
 * @module
 */
import assert from "node:assert/strict";
import { withTempDir } from "../_helpers.ts";
import { b, importBusybox, inspect, ok, startRegistry } from "./_helpers.ts";

/** This host's first non-loopback IPv4 address, if it has one. */
const address = Deno.networkInterfaces().find((i) =>
  i.family === "IPv4" && !i.address.startsWith("127.")
)?.address;
if (address === undefined) console.log("insecure_test: no non-loopback IPv4 address, skipped");

Deno.test({
  name: "push and pull reach a plain-HTTP registry off loopback only when it is named insecure",
  ignore: address === undefined,
  fn: async () => {
    await withTempDir(async (dir) => {
      const reg = startRegistry(`${dir}/reg`, { hostname: address! });
      try {
        const name = `${reg.host}/insecure/busybox:1`;
        const id = await importBusybox(`${dir}/a`, name, dir);
        // HTTPS to a plain-HTTP server: the TLS handshake fails.
        const refused = await b(`${dir}/a`, ["push", name], `${dir}/cfg`);
        assert.equal(refused.code, 125);
        assert.match(refused.stderr, new RegExp(`Cannot reach registry "${reg.host}"`));
        assert.equal(reg.requests.length, 0);

        ok(await b(`${dir}/a`, ["--insecure-registry", reg.host, "push", name], `${dir}/cfg`));
        assert.ok(reg.requests.length > 0);
        // Repeatable, and a scheme is tolerated as dockerd does.
        const flags = ["--insecure-registry", "other:5000", "--insecure-registry", reg.url];
        ok(await b(`${dir}/b`, [...flags, "pull", name], `${dir}/cfg`));
        assert.equal((await inspect(`${dir}/b`, name)).Id, id);

        // The environment variable and the config file say the same.
        const env = { BERTH_INSECURE_REGISTRIES: `x:1, ${reg.host}` };
        ok(await b(`${dir}/c`, ["pull", name], `${dir}/cfg`, { env }));
        await Deno.mkdir(`${dir}/cfg2`);
        await Deno.writeTextFile(
          `${dir}/cfg2/config.json`,
          JSON.stringify({ "insecure-registries": [reg.host] }),
        );
        ok(await b(`${dir}/d`, ["pull", name], `${dir}/cfg2`));
        const without = await b(`${dir}/e`, ["pull", name], `${dir}/cfg`);
        assert.equal(without.code, 125);
      } finally {
        await reg.close();
      }
    });
  },
});
