import assert from "node:assert/strict";
import { selfSignedCert } from "../_tls.ts";
import bcrypt from "bcryptjs";
import { sha256 } from "../../lib/digest.ts";
import { FsStorage, serveRegistry } from "../../lib/registry/mod.ts";
import { bytes, pushImage } from "./_helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

function berth(root: string, args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", CONFIG, MAIN, "--root", root, ...args],
    stdout: "piped",
    stderr: "piped",
  });
}

/** Reads a stream until its first line; the caller cancels the reader. */
async function firstLine(
  stream: ReadableStream<Uint8Array>,
): Promise<{ line: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  return { line: text.split("\n")[0]!, reader };
}

Deno.test("berth registry serve prints where it listens, logs with --debug, stops on SIGTERM", async () => {
  const root = await Deno.makeTempDir({ prefix: "berth-cli-registry-" });
  const child = berth(root, ["registry", "serve", "--addr", "127.0.0.1:0", "--debug"]).spawn();
  try {
    const { line, reader } = await firstLine(child.stdout);
    const m = /^Listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    assert.ok(m, line);
    const url = m[1]!;
    const image = await pushImage(url, "cli/test", "v1");
    const res = await fetch(`${url}/v2/cli/test/manifests/v1`);
    assert.equal(res.headers.get("Docker-Content-Digest"), image.manifest);
    await res.body?.cancel();
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    await reader.cancel();
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assert.match(stderr, /^PUT \/v2\/cli\/test\/manifests\/v1 201 /m);
    assert.ok(
      (await Deno.stat(`${root}/registry/blobs/sha256`)).isDirectory,
      "default storage is <root>/registry",
    );
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("berth registry serve logs nothing without --debug and stops at a second signal while a client stalls", async () => {
  const root = await Deno.makeTempDir({ prefix: "berth-cli-registry-" });
  const child = berth(root, ["registry", "serve", "--addr", "127.0.0.1:0"]).spawn();
  let conn: Deno.Conn | undefined;
  try {
    const { line, reader } = await firstLine(child.stdout);
    const port = Number(/:(\d+)$/.exec(line)?.[1]);
    const check = await fetch(`http://127.0.0.1:${port}/v2/`);
    assert.equal(check.status, 200);
    await check.body?.cancel();
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const head = `POST /v2/stall/blobs/uploads/?digest=${sha256("x")} HTTP/1.1\r\nHost: x\r\n` +
      "Content-Length: 1000\r\n\r\npartial";
    await conn.write(bytes(head));
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await reader.cancel();
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assert.equal(stderr, "", "requests are logged only with --debug");
  } finally {
    conn?.close();
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("berth registry serve --htpasswd --tls-cert --tls-key serves HTTPS with basic auth", async () => {
  const root = await Deno.makeTempDir({ prefix: "berth-cli-registry-" });
  let child: Deno.ChildProcess | undefined;
  let client: Deno.HttpClient | undefined;
  try {
    await selfSignedCert(root);
    await Deno.writeTextFile(
      `${root}/htpasswd`,
      `admin:${bcrypt.hashSync("pw", 4).replace("$2b$", "$2y$")}\n`,
    );
    child = berth(root, [
      "registry",
      "serve",
      "--addr",
      "127.0.0.1:0",
      "--htpasswd",
      `${root}/htpasswd`,
      "--tls-cert",
      `${root}/cert.pem`,
      "--tls-key",
      `${root}/key.pem`,
    ]).spawn();
    const { line, reader } = await firstLine(child.stdout);
    const url = /^Listening on (https:\/\/127\.0\.0\.1:\d+)$/.exec(line)?.[1];
    assert.ok(url, line);
    client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${root}/cert.pem`)] });
    const anon = await fetch(`${url}/v2/`, { client });
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    const authed = await fetch(`${url}/v2/`, {
      client,
      headers: { Authorization: `Basic ${btoa("admin:pw")}` },
    });
    assert.equal(authed.status, 200);
    await authed.body?.cancel();
    child.kill("SIGINT");
    assert.equal((await child.status).code, 0);
    await reader.cancel();
    await child.stderr.cancel();
  } finally {
    client?.close();
    try {
      child?.kill("SIGKILL");
    } catch { /* already gone */ }
    await child?.status;
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("berth registry gc removes unreferenced blobs; --dry-run only prints them", async () => {
  const root = await Deno.makeTempDir({ prefix: "berth-cli-gc-" });
  try {
    const storage = `${root}/store`;
    const orphan = sha256("orphan");
    await Deno.mkdir(`${storage}/blobs/sha256`, { recursive: true });
    await Deno.writeFile(`${storage}/blobs/sha256/${orphan.slice(7)}`, bytes("orphan"));
    const dry = await berth(root, ["registry", "gc", "--storage", storage, "--dry-run"]).output();
    assert.equal(dry.code, 0, new TextDecoder().decode(dry.stderr));
    assert.match(
      new TextDecoder().decode(dry.stdout),
      new RegExp(`^Would remove blob ${orphan} \\(6 bytes\\)$`, "m"),
    );
    assert.ok(Deno.statSync(`${storage}/blobs/sha256/${orphan.slice(7)}`).isFile);
    const real = await berth(root, ["registry", "gc", "--storage", storage]).output();
    assert.equal(real.code, 0);
    assert.match(
      new TextDecoder().decode(real.stdout),
      /^Removed 1 blobs \(6 bytes\), 0 manifests$/m,
    );
    assert.throws(
      () => Deno.statSync(`${storage}/blobs/sha256/${orphan.slice(7)}`),
      Deno.errors.NotFound,
    );
    const bad = await berth(root, ["registry", "serve", "--tls-cert", "x.pem"]).output();
    assert.equal(bad.code, 125);
    assert.match(new TextDecoder().decode(bad.stderr), /--tls-cert and --tls-key go together/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("berth registry gc removes abandoned upload sessions; --dry-run only lists them", async () => {
  const root = await Deno.makeTempDir({ prefix: "berth-cli-gc-uploads-" });
  try {
    const storage = `${root}/store`;
    // Pushes that stopped half-way, as an interrupted `docker push` leaves them:
    // one session never written to, one with a first chunk.
    const server = serveRegistry({ storage: new FsStorage(storage), port: 0 });
    const ids: string[] = [];
    for (const chunk of [undefined, bytes("first chunk")]) {
      const post = await fetch(`${server.url}/v2/app/blobs/uploads/`, { method: "POST" });
      await post.body?.cancel();
      const location = new URL(post.headers.get("Location")!, server.url);
      if (chunk !== undefined) {
        const patch = await fetch(location, { method: "PATCH", body: chunk });
        await patch.body?.cancel();
        assert.equal(patch.status, 202);
      }
      ids.push(post.headers.get("Docker-Upload-UUID")!);
    }
    await server.shutdown();
    const sessions = () => [...Deno.readDirSync(`${storage}/uploads`)].map((e) => e.name).sort();
    assert.deepEqual(sessions(), [...ids].sort());

    const dry = await berth(root, ["registry", "gc", "--storage", storage, "--dry-run"]).output();
    assert.equal(dry.code, 0, new TextDecoder().decode(dry.stderr));
    const dryOut = new TextDecoder().decode(dry.stdout);
    for (const id of ids) assert.match(dryOut, new RegExp(`^Would remove upload ${id}$`, "m"));
    assert.deepEqual(sessions(), [...ids].sort(), "a dry run removes nothing");

    const real = await berth(root, ["registry", "gc", "--storage", storage]).output();
    assert.equal(real.code, 0, new TextDecoder().decode(real.stderr));
    const out = new TextDecoder().decode(real.stdout);
    for (const id of ids) assert.match(out, new RegExp(`^Removed upload ${id}$`, "m"));
    assert.deepEqual(sessions(), [], "no session directory is left");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("berth registry gc removes the empty repository a push abandoned before its manifest", async () => {
  const root = await Deno.makeTempDir({ prefix: "berth-cli-gc-repos-" });
  try {
    const storage = `${root}/store`;
    let server = serveRegistry({ storage: new FsStorage(storage), port: 0 });
    await pushImage(server.url, "app", "v1");
    // The blobs of a push that stopped before its manifest, in a repository nested in "app".
    const layer = bytes("a layer nobody tagged");
    const post = await fetch(
      `${server.url}/v2/app/half/blobs/uploads/?digest=${sha256(layer)}`,
      { method: "POST", body: layer },
    );
    await post.body?.cancel();
    assert.equal(post.status, 201);
    await server.shutdown();

    const dry = await berth(root, ["registry", "gc", "--storage", storage, "--dry-run"]).output();
    assert.match(new TextDecoder().decode(dry.stdout), /^Would remove repository app\/half$/m);
    assert.ok(Deno.statSync(`${storage}/repositories/app/half`).isDirectory, "a dry run keeps it");
    const real = await berth(root, ["registry", "gc", "--storage", storage]).output();
    assert.equal(real.code, 0, new TextDecoder().decode(real.stderr));
    const out = new TextDecoder().decode(real.stdout);
    assert.match(out, /^Removed repository app\/half$/m);
    assert.doesNotMatch(out, /^Removed repository app$/m);
    assert.throws(() => Deno.statSync(`${storage}/repositories/app/half`), Deno.errors.NotFound);

    server = serveRegistry({ storage: new FsStorage(storage), port: 0 });
    try {
      const catalog = await (await fetch(`${server.url}/v2/_catalog`)).json();
      assert.deepEqual(catalog.repositories, ["app"]);
      const tags = await (await fetch(`${server.url}/v2/app/tags/list`)).json();
      assert.deepEqual(tags.tags, ["v1"]);
      const gone = await fetch(`${server.url}/v2/app/half/tags/list`);
      await gone.body?.cancel();
      assert.equal(gone.status, 404);
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
