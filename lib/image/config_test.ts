import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import { parseImageConfig } from "./config.ts";
import { encodeJson } from "./encode_json.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

// As moby writes it: Go field order, null slices, HTML-escaped "&&".
const DOCKER_CONFIG = `{"architecture":"amd64","config":{"Hostname":"","Env":["PATH=/usr/bin"],` +
  `"Cmd":["sh"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,` +
  `"Labels":null,"ExposedPorts":{"80/tcp":{}},"Healthcheck":{"Test":["CMD","true"],"Interval":30000000000},` +
  `"Shell":["/bin/sh","-c"],"StopSignal":"SIGQUIT"},"container":"abc","created":"2024-01-01T00:00:00Z",` +
  `"docker_version":"24.0.0","history":[{"created":"2024-01-01T00:00:00Z",` +
  `"created_by":"/bin/sh -c apt-get update \\u0026\\u0026 true"},` +
  `{"created":"2024-01-01T00:00:00Z","created_by":"/bin/sh -c #(nop)  CMD [\\"sh\\"]","empty_layer":true}],` +
  `"os":"linux","rootfs":{"type":"layers","diff_ids":["${d("a")}"]}}`;

const OCI_CONFIG =
  `{"created":"2024-01-01T00:00:00Z","architecture":"arm64","variant":"v8","os":"linux",` +
  `"config":{"User":"1000","Env":["A=1"],"Labels":{"k":"v"}},` +
  `"rootfs":{"type":"layers","diff_ids":["${d("b")}","${d("c")}"]},"history":[{"comment":"x"}]}`;

function assertInvalid(source: unknown, message: string): void {
  assert.throws(() => parseImageConfig(JSON.stringify(source)), (error: unknown) => {
    assert.ok(error instanceof InvalidError);
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("parseImageConfig() round-trips a moby config byte for byte", () => {
  const config = parseImageConfig(DOCKER_CONFIG);
  assert.equal(config.config?.Entrypoint, null);
  assert.equal(config.history?.[0]?.created_by, "/bin/sh -c apt-get update && true");
  assert.equal(config.container, "abc");
  assert.equal(text(encodeJson(config)), DOCKER_CONFIG);
  assert.deepEqual(parseImageConfig(encodeJson(config)), config);
});

Deno.test("parseImageConfig() round-trips an OCI config", () => {
  const config = parseImageConfig(new TextEncoder().encode(OCI_CONFIG));
  assert.deepEqual(config.rootfs.diff_ids, [d("b"), d("c")]);
  assert.equal(text(encodeJson(config)), OCI_CONFIG);
});

Deno.test("parseImageConfig() fills in diff_ids that moby omitted when empty", () => {
  const config = parseImageConfig(
    `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}`,
  );
  assert.deepEqual(config.rootfs.diff_ids, []);
});

Deno.test("parseImageConfig() names the bad field", () => {
  const base = JSON.parse(OCI_CONFIG);
  assertInvalid({ ...base, rootfs: undefined }, `Invalid image config: "rootfs" is missing`);
  assertInvalid(
    { ...base, rootfs: { type: "layers", diff_ids: ["x"] } },
    `Invalid image config: "rootfs.diff_ids[0]" is not a digest`,
  );
  assertInvalid(
    { ...base, rootfs: { type: "tar", diff_ids: [] } },
    `Invalid image config: "rootfs.type" is "tar", expected "layers"`,
  );
  assertInvalid({ ...base, os: undefined }, `Invalid image config: "os" is missing`);
  assertInvalid(
    { ...base, config: { Env: ["A", 1] } },
    `Invalid image config: "config.Env[1]" is not a string`,
  );
  assertInvalid(
    { ...base, config: { Labels: { a: 1 } } },
    `Invalid image config: "config.Labels.a" is not a string`,
  );
  assertInvalid(
    { ...base, config: { Healthcheck: { Retries: "3" } } },
    `Invalid image config: "config.Healthcheck.Retries" is not a non-negative integer`,
  );
  assertInvalid(
    { ...base, history: [{}, { empty_layer: "yes" }] },
    `Invalid image config: "history[1].empty_layer" is not a boolean`,
  );
});
