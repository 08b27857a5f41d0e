import assert from "node:assert/strict";
import { type Digest, sha256 } from "../../digest.ts";
import { collectGarbage } from "./gc.ts";
import { createRegistryHandler } from "./handler.ts";
import { MemoryStorage } from "./memory_storage.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const enc = (text: string) => new TextEncoder().encode(text);

/** A registry answering in-process, with MemoryStorage. */
function registry() {
  const storage = new MemoryStorage();
  const handle = createRegistryHandler({ storage });
  const call = async (
    method: string,
    path: string,
    body?: Uint8Array<ArrayBuffer>,
    type?: string,
  ) => {
    const res = await handle(
      new Request(`http://registry${path}`, {
        method,
        body: body ?? null,
        headers: type ? { "Content-Type": type } : {},
      }),
    );
    await res.body?.cancel();
    return res.status;
  };
  const blob = async (repo: string, text: string): Promise<Digest> => {
    assert.equal(
      await call("POST", `/v2/${repo}/blobs/uploads/?digest=${sha256(text)}`, enc(text)),
      201,
    );
    return sha256(text);
  };
  const manifest = async (
    repo: string,
    ref: string,
    doc: unknown,
  ): Promise<{ digest: Digest; size: number }> => {
    const body = enc(JSON.stringify(doc));
    assert.equal(await call("PUT", `/v2/${repo}/manifests/${ref}`, body, OCI_MANIFEST), 201);
    return { digest: sha256(body), size: body.byteLength };
  };
  const image = async (
    repo: string,
    ref: string,
    seed: string,
    extra: Record<string, unknown> = {},
  ) => {
    const config = await blob(repo, `config ${seed}`);
    const layer = await blob(repo, `layer ${seed}`);
    const m = await manifest(repo, ref, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: config,
        size: 7 + seed.length,
      },
      layers: [{
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: layer,
        size: 6 + seed.length,
      }],
      ...extra,
    });
    return { ...m, config, layer };
  };
  return { storage, call, blob, image };
}

Deno.test("collectGarbage() removes unreferenced blobs and keeps untagged manifests", async () => {
  const r = registry();
  const kept = await r.image("repo", "v1", "kept");
  const untagged = await r.image("repo", "v2", "untagged");
  assert.equal(await r.call("DELETE", "/v2/repo/manifests/v2"), 202);
  const orphan = await r.blob("repo", "never referenced");
  const dry = await collectGarbage(r.storage, { dryRun: true });
  assert.deepEqual(dry.blobs.map((b) => b.digest), [orphan]);
  assert.ok((await r.storage.statBlob(orphan)) !== undefined, "a dry run removes nothing");
  const report = await collectGarbage(r.storage);
  assert.deepEqual(report.blobs, [{ digest: orphan, size: "never referenced".length }]);
  assert.deepEqual(report.manifests, []);
  assert.equal(await r.storage.statBlob(orphan), undefined);
  assert.equal(await r.storage.isBlobLinked("repo", orphan), false);
  for (const d of [kept.digest, kept.layer, untagged.digest, untagged.config]) {
    assert.ok((await r.storage.statBlob(d)) !== undefined, d);
  }
});

Deno.test("collectGarbage() with deleteUntagged keeps what tags reach, referrers included", async () => {
  const r = registry();
  const tagged = await r.image("repo", "v1", "tagged");
  const subject = { mediaType: OCI_MANIFEST, digest: tagged.digest, size: tagged.size };
  const sig = await r.image("repo", "sha256:" + "0".repeat(64), "sig", { subject }).catch(() =>
    undefined
  );
  assert.equal(sig, undefined, "PUT by a digest that does not match is refused");
  const referrer = await r.image("repo", "tmp", "referrer", { subject, artifactType: "x/sig" });
  assert.equal(await r.call("DELETE", "/v2/repo/manifests/tmp"), 202);
  const dropped = await r.image("repo", "old", "dropped");
  assert.equal(await r.call("DELETE", "/v2/repo/manifests/old"), 202);
  const report = await collectGarbage(r.storage, { deleteUntagged: true });
  assert.deepEqual(report.manifests, [{ repo: "repo", digest: dropped.digest }]);
  assert.deepEqual(
    report.blobs.map((b) => b.digest).sort(),
    // The refused PUT left its two blobs behind: garbage too.
    [dropped.digest, dropped.config, dropped.layer, sha256("config sig"), sha256("layer sig")]
      .sort(),
  );
  assert.ok(
    (await r.storage.getManifest("repo", referrer.digest)) !== undefined,
    "a referrer of a tagged image stays",
  );
  assert.equal(await r.call("GET", `/v2/repo/manifests/${dropped.digest}`), 404);
  assert.equal(await r.call("GET", `/v2/repo/blobs/${tagged.layer}`), 200);
});
