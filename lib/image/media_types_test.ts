import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import { encodeJson } from "./encode_json.ts";
import {
  isConfigType,
  isIndexType,
  isLayerType,
  isManifestType,
  layerCompression,
  MEDIA_TYPES,
} from "./media_types.ts";

Deno.test("isManifestType() and isIndexType() accept OCI and Docker types", () => {
  assert.ok(isManifestType(MEDIA_TYPES.OCI_MANIFEST));
  assert.ok(isManifestType(MEDIA_TYPES.DOCKER_MANIFEST));
  assert.ok(!isManifestType(MEDIA_TYPES.DOCKER_MANIFEST_V1));
  assert.ok(!isManifestType(MEDIA_TYPES.OCI_INDEX));
  assert.ok(isIndexType(MEDIA_TYPES.OCI_INDEX));
  assert.ok(isIndexType(MEDIA_TYPES.DOCKER_MANIFEST_LIST));
  assert.ok(isConfigType(MEDIA_TYPES.DOCKER_CONFIG));
  assert.ok(!isLayerType(MEDIA_TYPES.OCI_CONFIG));
});

Deno.test("layerCompression() reads the compression from the layer type", () => {
  assert.equal(layerCompression(MEDIA_TYPES.DOCKER_LAYER_GZIP), "gzip");
  assert.equal(layerCompression(MEDIA_TYPES.DOCKER_FOREIGN_LAYER_GZIP), "gzip");
  assert.equal(layerCompression(MEDIA_TYPES.OCI_LAYER), "none");
  assert.equal(layerCompression(MEDIA_TYPES.OCI_LAYER_ZSTD), "zstd");
  assert.equal(layerCompression(MEDIA_TYPES.OCI_LAYER_NONDISTRIBUTABLE_GZIP), "gzip");
  assert.throws(() => layerCompression(MEDIA_TYPES.OCI_EMPTY), InvalidError);
});

Deno.test("encodeJson() writes compact JSON with Go's escapes", () => {
  const text = (v: unknown, o?: { escapeHtml: boolean }) =>
    new TextDecoder().decode(encodeJson(v, o));
  assert.equal(text({ b: 1, a: [true, null, "x"] }), `{"b":1,"a":[true,null,"x"]}`);
  assert.equal(text("a && <b>\u2028"), `"a \\u0026\\u0026 \\u003cb\\u003e\\u2028"`);
  assert.equal(text("<&>\u2029", { escapeHtml: false }), `"<&>\\u2029"`);
  assert.throws(() => encodeJson(undefined), TypeError);
});
