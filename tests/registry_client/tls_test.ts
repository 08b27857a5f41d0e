/**
 * HTTPS: a registry with a self-signed certificate on 127.0.0.1 is reached
 * over TLS once its CA is in `$BERTH_CONFIG/certs.d/<host:port>/ca.crt`
 * (Docker's layout); without it, loopback means plain HTTP and the push fails.
 */
import assert from "node:assert/strict";
import { selfSignedCert } from "../_tls.ts";
import { FsStorage, serveRegistry } from "../../lib/registry/mod.ts";
import { have, withTempDir } from "../_helpers.ts";
import { b, importBusybox, inspect, ok } from "./_helpers.ts";

Deno.test({
  name: "push and pull over HTTPS with the registry's CA in certs.d",
  ignore: !have("openssl"),
  async fn() {
    await withTempDir(async (dir) => {
      const { cert, key } = await selfSignedCert(dir);
      const server = serveRegistry({
        storage: new FsStorage(`${dir}/reg`),
        hostname: "127.0.0.1",
        port: 0,
        cert,
        key,
      });
      try {
        const host = `127.0.0.1:${server.port}`;
        const name = `${host}/secure:latest`;
        const id = await importBusybox(`${dir}/a`, name, dir);
        const plain = await b(`${dir}/a`, ["push", name], `${dir}/cfg`);
        assert.equal(plain.code, 1, "loopback without a CA is plain HTTP");

        await Deno.mkdir(`${dir}/cfg/certs.d/${host}`, { recursive: true });
        await Deno.writeTextFile(`${dir}/cfg/certs.d/${host}/ca.crt`, cert);
        ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`));
        ok(await b(`${dir}/b`, ["pull", name], `${dir}/cfg`));
        assert.equal((await inspect(`${dir}/b`, name)).Id, id);
        const login = ok(await b(`${dir}/b`, ["login", "-u", "x", "-p", "y", host], `${dir}/cfg`));
        assert.match(login.stdout, /Login Succeeded/);
      } finally {
        await server.shutdown();
      }
    });
  },
});
