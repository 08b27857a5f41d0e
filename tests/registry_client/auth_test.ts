/**
 * Registry auth: Basic against berth's registry with an htpasswd file, the
 * Bearer-token flow with a realm served by the test, `login` verifying and
 * saving credentials in config.json (0600), `logout` removing them, and
 * `~/.docker/config.json` read as a fallback.
 */
import assert from "node:assert/strict";
import bcrypt from "bcryptjs";
import { Htpasswd } from "../../lib/registry/mod.ts";
import { withTempDir } from "../_helpers.ts";
import { b, importBusybox, inspect, ok, serve, startRegistry } from "./_helpers.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const basic = (user: string, pass: string) => btoa(`${user}:${pass}`);

async function htpasswdRegistry(dir: string) {
  await Deno.writeTextFile(`${dir}/htpasswd`, `alice:${bcrypt.hashSync("secret", 4)}\n`);
  const authenticate = (await Htpasswd.load(`${dir}/htpasswd`)).authenticator();
  return startRegistry(`${dir}/reg`, { authenticate });
}

Deno.test("login checks credentials with Basic auth, saves them 0600, logout removes them", async () => {
  await withTempDir(async (dir) => {
    const reg = await htpasswdRegistry(dir);
    const cfg = `${dir}/cfg`;
    try {
      const bad = await b(`${dir}/a`, ["login", "-u", "alice", "-p", "wrong", reg.host], cfg);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /unauthorized/i);
      assert.throws(() => Deno.statSync(`${cfg}/config.json`), Deno.errors.NotFound);

      const good = ok(
        await b(`${dir}/a`, ["login", "-u", "alice", "--password-stdin", reg.host], cfg, {
          stdin: enc("secret\n"),
        }),
      );
      assert.match(good.stdout, /^Login Succeeded$/m);
      const config = JSON.parse(await Deno.readTextFile(`${cfg}/config.json`));
      assert.deepEqual(config.auths[reg.host], { auth: basic("alice", "secret") });
      assert.equal(Deno.statSync(`${cfg}/config.json`).mode! & 0o777, 0o600);

      const name = `${reg.host}/private:latest`;
      const id = await importBusybox(`${dir}/a`, name, dir);
      ok(await b(`${dir}/a`, ["push", name], cfg));
      ok(await b(`${dir}/b`, ["pull", name], cfg));
      assert.equal((await inspect(`${dir}/b`, name)).Id, id);

      const out = ok(await b(`${dir}/a`, ["logout", reg.host], cfg));
      assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
      const after = JSON.parse(await Deno.readTextFile(`${cfg}/config.json`));
      assert.equal(after.auths[reg.host], undefined);
      const again = ok(await b(`${dir}/a`, ["logout", reg.host], cfg));
      assert.equal(again.stdout, `Not logged in to ${reg.host}\n`);
      const denied = await b(`${dir}/c`, ["pull", name], cfg);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /unauthorized/i);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("credentials in ~/.docker/config.json are used when berth has none", async () => {
  await withTempDir(async (dir) => {
    const reg = await htpasswdRegistry(dir);
    try {
      await Deno.mkdir(`${dir}/home/.docker`, { recursive: true });
      const docker = { auths: { [reg.host]: { auth: basic("alice", "secret") } } };
      await Deno.writeTextFile(`${dir}/home/.docker/config.json`, JSON.stringify(docker));
      const env = { HOME: `${dir}/home` };
      const name = `${reg.host}/fallback:latest`;
      await importBusybox(`${dir}/a`, name, dir);
      ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`, { env }));
      assert.equal(
        await Deno.readTextFile(`${dir}/home/.docker/config.json`),
        JSON.stringify(docker),
      );
    } finally {
      await reg.close();
    }
  });
});

Deno.test("credentials come from a Docker credential helper named in credHelpers", async () => {
  await withTempDir(async (dir) => {
    const reg = await htpasswdRegistry(dir);
    try {
      // A helper as docker-credential-helpers specifies: server on stdin, JSON on stdout.
      await Deno.mkdir(`${dir}/bin`);
      await Deno.writeTextFile(
        `${dir}/bin/docker-credential-fake`,
        `#!/bin/sh\n[ "$1" = get ] || exit 2\nread server\n` +
          `[ "$server" = "${reg.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\n` +
          `echo '{"ServerURL":"${reg.host}","Username":"alice","Secret":"secret"}'\n`,
        { mode: 0o755 },
      );
      await Deno.mkdir(`${dir}/cfg`);
      await Deno.writeTextFile(
        `${dir}/cfg/config.json`,
        JSON.stringify({ credHelpers: { [reg.host]: "fake" } }),
      );
      const env = { PATH: `${dir}/bin:${Deno.env.get("PATH")}` };
      const name = `${reg.host}/helped:latest`;
      await importBusybox(`${dir}/a`, name, dir);
      ok(await b(`${dir}/a`, ["push", name], `${dir}/cfg`, { env }));
      ok(await b(`${dir}/b`, ["pull", name], `${dir}/cfg`, { env }));
    } finally {
      await reg.close();
    }
  });
});

Deno.test("the Bearer-token flow gets a token from the realm for the right scopes", async () => {
  await withTempDir(async (dir) => {
    const token = crypto.randomUUID();
    const tokenRequests: URL[] = [];
    const realm = serve((req) => {
      const url = new URL(req.url);
      tokenRequests.push(url);
      if (req.headers.get("authorization") !== `Basic ${basic("bob", "hunter2")}`) {
        return new Response('{"details":"incorrect username or password"}', { status: 401 });
      }
      // Some token servers answer `token`, others `access_token`: take either.
      return Response.json({ access_token: token, expires_in: 300 });
    });
    const reg = startRegistry(`${dir}/reg`, {
      wrap: (req, next) => {
        if (req.headers.get("authorization") === `Bearer ${token}`) return next(req);
        const scope = /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(new URL(req.url).pathname)
          ?.[1];
        const challenge = `Bearer realm="${realm.url}/token",service="test-registry"` +
          (scope === undefined ? "" : `,scope="repository:${scope}:pull"`);
        return Promise.resolve(
          Response.json(
            { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
            {
              status: 401,
              headers: { "WWW-Authenticate": challenge },
            },
          ),
        );
      },
    });
    const cfg = `${dir}/cfg`;
    try {
      const name = `${reg.host}/team/app:1`;
      await importBusybox(`${dir}/a`, name, dir);
      const anonymous = await b(`${dir}/a`, ["push", name], cfg);
      assert.equal(anonymous.code, 1);
      assert.match(anonymous.stderr, /unauthorized/i);

      ok(await b(`${dir}/a`, ["login", "-u", "bob", "-p", "hunter2", reg.host], cfg));
      tokenRequests.length = 0;
      ok(await b(`${dir}/a`, ["push", name], cfg));
      ok(await b(`${dir}/b`, ["pull", name], cfg));
      const scopes = tokenRequests.flatMap((u) => u.searchParams.getAll("scope"));
      assert.ok(scopes.includes("repository:team/app:pull,push"), scopes.join(" "));
      assert.ok(scopes.includes("repository:team/app:pull"), scopes.join(" "));
      assert.ok(tokenRequests.every((u) => u.searchParams.get("service") === "test-registry"));
    } finally {
      await reg.close();
      await realm.close();
    }
  });
});

Deno.test("an identity token in config.json is traded at the realm with an OAuth2 POST", async () => {
  await withTempDir(async (dir) => {
    const token = crypto.randomUUID();
    const refresh = crypto.randomUUID();
    const grants: { method: string; form: URLSearchParams }[] = [];
    const realm = serve(async (req) => {
      const form = new URLSearchParams(req.method === "POST" ? await req.text() : "");
      grants.push({ method: req.method, form });
      if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== refresh) {
        return new Response('{"details":"invalid grant"}', { status: 401 });
      }
      return Response.json({ access_token: token, expires_in: 300 });
    });
    const reg = startRegistry(`${dir}/reg`, {
      wrap: (req, next) => {
        if (req.headers.get("authorization") === `Bearer ${token}`) return next(req);
        const challenge = `Bearer realm="${realm.url}/token",service="test-registry"`;
        return Promise.resolve(
          Response.json(
            { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
            { status: 401, headers: { "WWW-Authenticate": challenge } },
          ),
        );
      },
    });
    const cfg = `${dir}/cfg`;
    try {
      const name = `${reg.host}/team/app:1`;
      await importBusybox(`${dir}/a`, name, dir);
      await Deno.mkdir(cfg, { recursive: true });
      // As Docker writes it after a login to a registry that hands out refresh tokens.
      const auths = { [reg.host]: { auth: btoa("bob:"), identitytoken: "not-" + refresh } };
      await Deno.writeTextFile(`${cfg}/config.json`, JSON.stringify({ auths }));
      const wrong = await b(`${dir}/a`, ["push", name], cfg);
      assert.equal(wrong.code, 1, "a stale identity token is refused");
      assert.match(wrong.stderr, /unauthorized/i);

      auths[reg.host]!.identitytoken = refresh;
      await Deno.writeTextFile(`${cfg}/config.json`, JSON.stringify({ auths }));
      grants.length = 0;
      ok(await b(`${dir}/a`, ["push", name], cfg));
      ok(await b(`${dir}/b`, ["pull", name], cfg));
      assert.ok(grants.length > 0 && grants.every((g) => g.method === "POST"));
      const scopes = grants.map((g) => g.form.get("scope"));
      assert.ok(scopes.includes("repository:team/app:pull,push"), scopes.join(" "));
      assert.ok(grants.every((g) => g.form.get("service") === "test-registry"));
    } finally {
      await reg.close();
      await realm.close();
    }
  });
});
