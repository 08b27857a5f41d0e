import assert from "node:assert/strict";
import { sha256 } from "../../lib/digest.ts";
import { bytes, errorCode, imageManifest, pushBlob, pushImage, startRegistry } from "./_helpers.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

Deno.test("manifests: PUT then GET/HEAD by tag and digest with the stored media type", async () => {
  const reg = await startRegistry();
  try {
    const image = await pushImage(reg.url, "lib/app", "v1");
    for (const ref of ["v1", image.manifest]) {
      const res = await fetch(`${reg.url}/v2/lib/app/manifests/${ref}`, {
        headers: { Accept: OCI_MANIFEST },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("Content-Type"), OCI_MANIFEST);
      assert.equal(res.headers.get("Docker-Content-Digest"), image.manifest);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), image.body);
      const head = await fetch(`${reg.url}/v2/lib/app/manifests/${ref}`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("Content-Length"), String(image.body.byteLength));
    }
    const dockerOnly = await fetch(`${reg.url}/v2/lib/app/manifests/v1`, {
      headers: { Accept: DOCKER_MANIFEST },
    });
    assert.equal(dockerOnly.status, 404);
    assert.equal(await errorCode(dockerOnly), "MANIFEST_UNKNOWN");
    const missing = await fetch(`${reg.url}/v2/lib/app/manifests/v2`);
    assert.equal(await errorCode(missing), "MANIFEST_UNKNOWN");
    const blob = await fetch(`${reg.url}/v2/lib/app/blobs/${image.manifest}`);
    assert.equal(blob.status, 200, "a manifest is also a blob of its repository");
    await blob.body?.cancel();
  } finally {
    await reg.close();
  }
});

Deno.test("an index needs its manifests in the repository (MANIFEST_UNKNOWN otherwise)", async () => {
  const reg = await startRegistry();
  try {
    const image = await pushImage(reg.url, "multi", "amd64");
    const index = (digest: string) =>
      bytes(JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{
          mediaType: OCI_MANIFEST,
          digest,
          size: image.body.byteLength,
          platform: { os: "linux", architecture: "amd64" },
        }],
      }));
    const put = (body: Uint8Array<ArrayBuffer>) =>
      fetch(`${reg.url}/v2/multi/manifests/latest`, {
        method: "PUT",
        headers: { "Content-Type": OCI_INDEX },
        body,
      });
    const bad = await put(index(sha256("no such manifest")));
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), "MANIFEST_UNKNOWN");
    const good = await put(index(image.manifest));
    assert.equal(good.status, 201);
    await good.body?.cancel();
    const get = await fetch(`${reg.url}/v2/multi/manifests/latest`, {
      headers: { Accept: `${OCI_INDEX}, ${OCI_MANIFEST}` },
    });
    assert.equal(get.headers.get("Content-Type"), OCI_INDEX);
    await get.body?.cancel();
  } finally {
    await reg.close();
  }
});

Deno.test("tags/list and _catalog paginate with n, last and a Link header", async () => {
  const reg = await startRegistry();
  try {
    for (const tag of ["c", "a", "e", "b", "d"]) await pushImage(reg.url, "pages", tag, "same");
    await pushImage(reg.url, "other/repo", "x");
    const all = await fetch(`${reg.url}/v2/pages/tags/list`);
    assert.deepEqual(await all.json(), { name: "pages", tags: ["a", "b", "c", "d", "e"] });
    assert.equal(all.headers.get("Link"), null);
    const first = await fetch(`${reg.url}/v2/pages/tags/list?n=2`);
    assert.deepEqual((await first.json()).tags, ["a", "b"]);
    const link = first.headers.get("Link")!;
    assert.equal(link, '</v2/pages/tags/list?n=2&last=b>; rel="next"');
    const second = await fetch(new URL(/<([^>]+)>/.exec(link)![1]!, reg.url));
    assert.deepEqual((await second.json()).tags, ["c", "d"]);
    const last = await fetch(`${reg.url}/v2/pages/tags/list?n=2&last=d`);
    assert.deepEqual((await last.json()).tags, ["e"]);
    assert.equal(last.headers.get("Link"), null);
    const unknown = await fetch(`${reg.url}/v2/nothing/tags/list`);
    assert.equal(await errorCode(unknown), "NAME_UNKNOWN");
    const catalog = await fetch(`${reg.url}/v2/_catalog?n=1`);
    assert.deepEqual(await catalog.json(), { repositories: ["other/repo"] });
    assert.equal(catalog.headers.get("Link"), '</v2/_catalog?n=1&last=other%2Frepo>; rel="next"');
    const rest = await fetch(`${reg.url}/v2/_catalog?n=1&last=other/repo`);
    assert.deepEqual(await rest.json(), { repositories: ["pages"] });
  } finally {
    await reg.close();
  }
});

Deno.test("referrers: a manifest with a subject gets OCI-Subject and is listed, filtered by artifactType", async () => {
  const reg = await startRegistry();
  try {
    const image = await pushImage(reg.url, "ref", "v1");
    const empty = await pushBlob(reg.url, "ref", bytes("{}"));
    const subject = {
      mediaType: OCI_MANIFEST,
      digest: image.manifest,
      size: image.body.byteLength,
    };
    const sig = imageManifest({ digest: empty, size: 2 }, [], {
      artifactType: "application/vnd.example.sig",
      subject,
      annotations: { "org.example": "yes" },
    });
    const put = await fetch(`${reg.url}/v2/ref/manifests/${sha256(sig)}`, {
      method: "PUT",
      headers: { "Content-Type": OCI_MANIFEST },
      body: sig,
    });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get("OCI-Subject"), image.manifest);
    const sbom = await pushImage(reg.url, "ref", "sbom", "sbom", {
      artifactType: "application/vnd.example.sbom",
      subject,
    });
    const list = await fetch(`${reg.url}/v2/ref/referrers/${image.manifest}`);
    assert.equal(list.status, 200);
    assert.equal(list.headers.get("Content-Type"), OCI_INDEX);
    const index = await list.json();
    assert.equal(index.schemaVersion, 2);
    assert.deepEqual(
      index.manifests.map((d: { digest: string }) => d.digest).sort(),
      [sha256(sig), sbom.manifest].sort(),
    );
    const sigEntry = index.manifests.find((d: { digest: string }) => d.digest === sha256(sig));
    assert.deepEqual(sigEntry, {
      mediaType: OCI_MANIFEST,
      digest: sha256(sig),
      size: sig.byteLength,
      artifactType: "application/vnd.example.sig",
      annotations: { "org.example": "yes" },
    });
    const filtered = await fetch(
      `${reg.url}/v2/ref/referrers/${image.manifest}?artifactType=application/vnd.example.sbom`,
    );
    assert.equal(filtered.headers.get("OCI-Filters-Applied"), "artifactType");
    assert.deepEqual((await filtered.json()).manifests.map((d: { digest: string }) => d.digest), [
      sbom.manifest,
    ]);
    const none = await fetch(`${reg.url}/v2/ref/referrers/${sha256("nothing")}`);
    assert.deepEqual((await none.json()).manifests, []);
    const del = await fetch(`${reg.url}/v2/ref/manifests/${sha256(sig)}`, { method: "DELETE" });
    assert.equal(del.status, 202);
    const after = await (await fetch(`${reg.url}/v2/ref/referrers/${image.manifest}`)).json();
    assert.deepEqual(after.manifests.map((d: { digest: string }) => d.digest), [sbom.manifest]);
  } finally {
    await reg.close();
  }
});

Deno.test("DELETE of tags, manifests, blobs and uploads", async () => {
  const reg = await startRegistry();
  try {
    const image = await pushImage(reg.url, "del", "v1");
    const tag2 = await fetch(`${reg.url}/v2/del/manifests/v2`, {
      method: "PUT",
      headers: { "Content-Type": OCI_MANIFEST },
      body: image.body,
    });
    await tag2.body?.cancel();
    assert.equal((await fetch(`${reg.url}/v2/del/manifests/v2`, { method: "DELETE" })).status, 202);
    assert.deepEqual((await (await fetch(`${reg.url}/v2/del/tags/list`)).json()).tags, ["v1"]);
    assert.equal(
      (await fetch(`${reg.url}/v2/del/manifests/${image.manifest}`, { method: "DELETE" })).status,
      202,
    );
    assert.equal((await fetch(`${reg.url}/v2/del/manifests/v1`, { method: "HEAD" })).status, 404);
    assert.deepEqual((await (await fetch(`${reg.url}/v2/del/tags/list`)).json()).tags, []);
    const again = await fetch(`${reg.url}/v2/del/manifests/${image.manifest}`, {
      method: "DELETE",
    });
    assert.equal(await errorCode(again), "MANIFEST_UNKNOWN");
    assert.equal(
      (await fetch(`${reg.url}/v2/del/blobs/${image.layer}`, { method: "DELETE" })).status,
      202,
    );
    assert.equal(
      (await fetch(`${reg.url}/v2/del/blobs/${image.layer}`, { method: "HEAD" })).status,
      404,
    );
    const blobAgain = await fetch(`${reg.url}/v2/del/blobs/${image.layer}`, { method: "DELETE" });
    assert.equal(await errorCode(blobAgain), "BLOB_UNKNOWN");
    const post = await fetch(`${reg.url}/v2/del/blobs/uploads/`, { method: "POST" });
    await post.body?.cancel();
    const location = new URL(post.headers.get("Location")!, reg.url);
    assert.equal((await fetch(location, { method: "DELETE" })).status, 204);
    const gone = await fetch(location);
    assert.equal(await errorCode(gone), "BLOB_UPLOAD_UNKNOWN");
    const method = await fetch(`${reg.url}/v2/del/tags/list`, { method: "POST" });
    assert.equal(method.status, 405);
    assert.equal(await errorCode(method), "UNSUPPORTED");
  } finally {
    await reg.close();
  }
});

Deno.test("GET, HEAD and DELETE of a reference that is neither a tag nor a digest answer 404 MANIFEST_UNKNOWN; PUT keeps 400", async () => {
  const reg = await startRegistry();
  try {
    const image = await pushImage(reg.url, "refs", "v1");
    // The distribution-spec lists only 404 for these endpoints; its conformance
    // suite asks for ".INVALID_MANIFEST_NAME" and wants 404.
    const refs = [
      ".INVALID_MANIFEST_NAME",
      "-lead",
      "t".repeat(129),
      "sha256:totallywrong",
      `sha512:${"a".repeat(128)}`,
    ];
    for (const ref of refs) {
      const url = `${reg.url}/v2/refs/manifests/${ref}`;
      const get = await fetch(url, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(get.status, 404, `GET ${ref}`);
      assert.equal(await errorCode(get), "MANIFEST_UNKNOWN", `GET ${ref}`);
      const head = await fetch(url, { method: "HEAD" });
      assert.equal(head.status, 404, `HEAD ${ref}`);
      const del = await fetch(url, { method: "DELETE" });
      assert.equal(del.status, 404, `DELETE ${ref}`);
      assert.equal(await errorCode(del), "MANIFEST_UNKNOWN", `DELETE ${ref}`);
    }
    const put = (ref: string) =>
      fetch(`${reg.url}/v2/refs/manifests/${ref}`, {
        method: "PUT",
        headers: { "Content-Type": OCI_MANIFEST },
        body: image.body,
      });
    const badTag = await put(".INVALID_MANIFEST_NAME");
    assert.equal(badTag.status, 400);
    assert.equal(await errorCode(badTag), "MANIFEST_INVALID");
    const badDigest = await put("sha256:totallywrong");
    assert.equal(badDigest.status, 400);
    assert.equal(await errorCode(badDigest), "DIGEST_INVALID");
    assert.deepEqual((await (await fetch(`${reg.url}/v2/refs/tags/list`)).json()).tags, ["v1"]);
    const still = await fetch(`${reg.url}/v2/refs/manifests/v1`, { method: "HEAD" });
    assert.equal(still.status, 200, "nothing was deleted");
  } finally {
    await reg.close();
  }
});
