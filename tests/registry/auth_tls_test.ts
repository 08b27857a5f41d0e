import assert from "node:assert/strict";
import { selfSignedCert } from "../_tls.ts";
import bcrypt from "bcryptjs";
import { Htpasswd } from "../../lib/registry/mod.ts";
import { bytes, errorCode, pushBlob, startRegistry } from "./_helpers.ts";

const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

Deno.test("htpasswd: 401 with WWW-Authenticate without or with wrong credentials, 200 with good ones", async () => {
  // htpasswd -B writes $2y$; bcryptjs writes $2b$: the file must accept both.
  const hash = bcrypt.hashSync("s3cret", 4).replace(/^\$2b\$/, "$2y$");
  const auth = new Htpasswd(`# users\nalice:${hash}\n`);
  const reg = await startRegistry({ authenticate: auth.authenticator() });
  try {
    const anon = await fetch(`${reg.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get("WWW-Authenticate"), 'Basic realm="berth"');
    assert.equal(await errorCode(anon), "UNAUTHORIZED");
    const wrong = await fetch(`${reg.url}/v2/`, {
      headers: { Authorization: basic("alice", "nope") },
    });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const nobody = await fetch(`${reg.url}/v2/_catalog`, {
      headers: { Authorization: basic("bob", "s3cret") },
    });
    assert.equal(nobody.status, 401);
    await nobody.body?.cancel();
    const good = await fetch(`${reg.url}/v2/`, {
      headers: { Authorization: basic("alice", "s3cret") },
    });
    assert.equal(good.status, 200);
    await good.body?.cancel();
    const push = await fetch(`${reg.url}/v2/x/blobs/uploads/`, {
      method: "POST",
      body: bytes("x"),
    });
    assert.equal(push.status, 401);
    await push.body?.cancel();
  } finally {
    await reg.close();
  }
});

Deno.test("Htpasswd refuses non-bcrypt entries", () => {
  assert.throws(() => new Htpasswd("alice:{SHA}abc\n"), /only bcrypt entries/);
});

Deno.test({
  name: "TLS: the registry serves HTTPS with a self-signed certificate",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "berth-tls-" });
    try {
      const { cert, key } = await selfSignedCert(dir);
      const reg = await startRegistry({ cert, key });
      const client = Deno.createHttpClient({ caCerts: [cert] });
      try {
        assert.match(reg.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        const res = await fetch(`${reg.url}/v2/`, { client });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), {});
        await assert.rejects(fetch(`${reg.url}/v2/`), "an unknown CA is refused by default");
        const plain = reg.url.replace("https:", "http:");
        await assert.rejects(async () => {
          const r = await fetch(`${plain}/v2/`);
          await r.body?.cancel();
          if (r.status === 200) throw new Error("unexpected");
          throw new Error(`status ${r.status}`);
        });
        const digest = await pushBlob(reg.url, "tls", bytes("over tls")).catch(() => undefined);
        assert.equal(digest, undefined, "fetch without the CA cannot push");
      } finally {
        client.close();
        await reg.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
