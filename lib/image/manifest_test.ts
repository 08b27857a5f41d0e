import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import { encodeJson } from "./encode_json.ts";
import { parseIndex } from "./index.ts";
import { parseManifest } from "./manifest.ts";
import { parseManifestOrIndex } from "./manifest_or_index.ts";
import { MEDIA_TYPES } from "./media_types.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const DOCKER_MANIFEST =
  `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
  `"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1457,"digest":"${
    d("a")
  }"},` +
  `"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2152262,"digest":"${
    d("b")
  }"}]}`;

const OCI_MANIFEST =
  `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",` +
  `"digest":"${d("c")}","size":581},"layers":[` +
  `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"${d("d")}","size":3,` +
  `"annotations":{"org.opencontainers.image.title":"x"}},` +
  `{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"${d("e")}","size":4,` +
  `"urls":["https://example.com/l"]}],` +
  `"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${
    d("f")
  }","size":9},` +
  `"annotations":{"a":"<&>"},"x-unknown":{"kept":true}}`;

const OCI_INDEX =
  `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
  `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${d("1")}","size":1,` +
  `"platform":{"architecture":"amd64","os":"linux"}},` +
  `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${d("2")}","size":2,` +
  `"platform":{"architecture":"unknown","os":"unknown"},` +
  `"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}`;

const MANIFEST_LIST =
  `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",` +
  `"manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":5,` +
  `"digest":"${d("3")}","platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}`;

function assertInvalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidError, String(error));
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("parseManifest() round-trips a Docker schema 2 manifest byte for byte", () => {
  const manifest = parseManifest(new TextEncoder().encode(DOCKER_MANIFEST));
  assert.equal(manifest.mediaType, MEDIA_TYPES.DOCKER_MANIFEST);
  assert.equal(manifest.layers[0]?.size, 2152262);
  assert.equal(text(encodeJson(manifest)), DOCKER_MANIFEST);
  assert.deepEqual(parseManifest(encodeJson(manifest)), manifest);
});

Deno.test("parseManifest() round-trips an OCI manifest without mediaType, keeping unknown fields", () => {
  const manifest = parseManifest(OCI_MANIFEST, MEDIA_TYPES.OCI_MANIFEST);
  assert.equal(manifest.mediaType, undefined);
  assert.equal(manifest.subject?.digest, d("f"));
  assert.deepEqual(parseManifest(encodeJson(manifest)), manifest);
  assert.equal(text(encodeJson(manifest)), OCI_MANIFEST.replace("<&>", "\\u003c\\u0026\\u003e"));
});

Deno.test("parseManifest() names the bad field", () => {
  // deno-lint-ignore no-explicit-any
  const bad = (path: (m: any) => void) => {
    const m = JSON.parse(OCI_MANIFEST);
    path(m);
    return () => parseManifest(JSON.stringify(m));
  };
  assertInvalid(
    bad((m) => (m.layers[1].digest = "sha256:nope")),
    `Invalid image manifest: "layers[1].digest" is not a digest`,
  );
  assertInvalid(bad((m) => delete m.config), `Invalid image manifest: "config" is missing`);
  assertInvalid(
    bad((m) => (m.layers[0].size = -1)),
    `Invalid image manifest: "layers[0].size" is not a non-negative integer`,
  );
  assertInvalid(bad((m) => (m.layers = {})), `Invalid image manifest: "layers" is not an array`);
  assertInvalid(
    bad((m) => (m.schemaVersion = 1)),
    `Invalid image manifest: "schemaVersion" is 1, expected 2`,
  );
  assertInvalid(
    bad((m) => (m.annotations = { a: 1 })),
    `Invalid image manifest: "annotations.a" is not a string`,
  );
  assertInvalid(
    bad((m) => (m.mediaType = MEDIA_TYPES.OCI_INDEX)),
    `Invalid image manifest: "mediaType" is not an image manifest media type: "${MEDIA_TYPES.OCI_INDEX}"`,
  );
  assertInvalid(() => parseManifest("[1]"), "Invalid image manifest: not a JSON object");
  assertInvalid(() => parseManifest("{"), "Invalid image manifest: not valid JSON");
});

Deno.test("parseManifest() rejects a body that contradicts its content type", () => {
  assert.throws(
    () => parseManifest(DOCKER_MANIFEST, MEDIA_TYPES.OCI_MANIFEST),
    /"mediaType" is "application\/vnd.docker.distribution.manifest.v2\+json" but the content type/,
  );
  assert.throws(() => parseManifest(OCI_MANIFEST, MEDIA_TYPES.OCI_INDEX), InvalidError);
  assert.ok(parseManifest(OCI_MANIFEST, "application/json"));
});

Deno.test("parseIndex() round-trips an OCI index and a Docker manifest list", () => {
  for (const source of [OCI_INDEX, MANIFEST_LIST]) {
    const index = parseIndex(source);
    assert.equal(text(encodeJson(index)), source);
    assert.deepEqual(parseIndex(encodeJson(index)), index);
  }
  assert.equal(parseIndex(MANIFEST_LIST).manifests[0]?.platform?.variant, "v7");
});

Deno.test("parseIndex() names the bad field", () => {
  const index = JSON.parse(OCI_INDEX);
  delete index.manifests[1].platform.os;
  assertInvalid(
    () => parseIndex(JSON.stringify(index)),
    `Invalid image index: "manifests[1].platform.os" is missing`,
  );
  assertInvalid(
    () => parseIndex(DOCKER_MANIFEST),
    `Invalid image index: "mediaType" is not an image index media type: "${MEDIA_TYPES.DOCKER_MANIFEST}"`,
  );
});

Deno.test("parseManifestOrIndex() tells the kind from mediaType, the hint or the shape", () => {
  const docker = parseManifestOrIndex(DOCKER_MANIFEST);
  assert.equal(docker.kind, "manifest");
  assert.equal(docker.mediaType, MEDIA_TYPES.DOCKER_MANIFEST);
  const oci = parseManifestOrIndex(OCI_MANIFEST);
  assert.deepEqual([oci.kind, oci.mediaType], ["manifest", MEDIA_TYPES.OCI_MANIFEST]);
  const list = parseManifestOrIndex(MANIFEST_LIST, "application/json");
  assert.deepEqual([list.kind, list.mediaType], ["index", MEDIA_TYPES.DOCKER_MANIFEST_LIST]);
  const untyped = parseManifestOrIndex(`{"schemaVersion":2,"manifests":[]}`);
  assert.deepEqual([untyped.kind, untyped.mediaType], ["index", MEDIA_TYPES.OCI_INDEX]);
  const hinted = parseManifestOrIndex(
    `{"schemaVersion":2,"manifests":[]}`,
    MEDIA_TYPES.DOCKER_MANIFEST_LIST,
  );
  assert.equal(hinted.mediaType, MEDIA_TYPES.DOCKER_MANIFEST_LIST);
  assert.throws(() => parseManifestOrIndex(`{"schemaVersion":2}`), /"config" is missing/);
});
