import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import type { Descriptor, Platform } from "./descriptor.ts";
import type { Index } from "./index.ts";
import {
  currentPlatform,
  formatPlatform,
  normalizePlatform,
  parsePlatform,
  selectPlatform,
} from "./platform.ts";

function entry(n: number, platform?: Platform): Descriptor {
  const base: Descriptor = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: `sha256:${String(n).repeat(64)}`,
    size: n,
  };
  return platform === undefined ? base : { ...base, platform };
}

function index(...manifests: Descriptor[]): Index {
  return { schemaVersion: 2, manifests };
}

const AMD64 = entry(1, { os: "linux", architecture: "amd64" });
const ARM64 = entry(2, { os: "linux", architecture: "arm64", variant: "v8" });
const ARM64_BARE = entry(3, { os: "linux", architecture: "arm64" });
const ARMV6 = entry(4, { os: "linux", architecture: "arm", variant: "v6" });
const ARMV7 = entry(5, { os: "linux", architecture: "arm", variant: "v7" });
const ATTESTATION = entry(6, { os: "unknown", architecture: "unknown" });

Deno.test("selectPlatform() picks the matching architecture", () => {
  const list = index(ATTESTATION, ARMV6, AMD64, ARM64);
  assert.equal(selectPlatform(list, { os: "linux", architecture: "amd64" }), AMD64);
  assert.equal(selectPlatform(list, { os: "linux", architecture: "x86_64" }), AMD64);
  assert.equal(selectPlatform(list, { os: "windows", architecture: "amd64" }), undefined);
  assert.equal(selectPlatform(list, { os: "linux", architecture: "s390x" }), undefined);
});

Deno.test("selectPlatform() treats arm64 without a variant as v8", () => {
  assert.equal(selectPlatform(index(AMD64, ARM64), { os: "linux", architecture: "arm64" }), ARM64);
  assert.equal(
    selectPlatform(index(ARM64_BARE), { os: "linux", architecture: "aarch64", variant: "v8" }),
    ARM64_BARE,
  );
});

Deno.test("selectPlatform() prefers the exact variant, then the closest lower one", () => {
  const arm = { os: "linux", architecture: "arm" };
  assert.equal(selectPlatform(index(ARMV6, ARMV7), { ...arm, variant: "v7" }), ARMV7);
  assert.equal(selectPlatform(index(ARMV6, ARMV7), arm), ARMV7);
  assert.equal(selectPlatform(index(ARMV6), { ...arm, variant: "v7" }), ARMV6);
  assert.equal(selectPlatform(index(ARMV7), { ...arm, variant: "v6" }), undefined);
});

Deno.test("selectPlatform() falls back to an entry without a platform", () => {
  const bare = entry(7);
  assert.equal(selectPlatform(index(bare, AMD64), { os: "linux", architecture: "amd64" }), AMD64);
  assert.equal(selectPlatform(index(bare), { os: "linux", architecture: "amd64" }), bare);
});

Deno.test("currentPlatform() maps Deno.build.arch to Go's names", () => {
  const platform = currentPlatform();
  assert.equal(platform.os, "linux");
  const expected = { x86_64: "amd64", aarch64: "arm64" }[Deno.build.arch as string];
  if (expected !== undefined) assert.equal(platform.architecture, expected);
});

Deno.test("parsePlatform() parses --platform values and normalises aliases", () => {
  assert.deepEqual(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(parsePlatform("linux/arm64"), {
    os: "linux",
    architecture: "arm64",
    variant: "v8",
  });
  assert.deepEqual(parsePlatform("Linux/ARM/7"), {
    os: "linux",
    architecture: "arm",
    variant: "v7",
  });
  assert.deepEqual(parsePlatform("linux/x86_64"), { os: "linux", architecture: "amd64" });
  assert.equal(parsePlatform("arm64").os, "linux");
  assert.equal(parsePlatform("linux").architecture, currentPlatform().architecture);
  assert.throws(() => parsePlatform("linux/amd64/v1/x"), InvalidError);
  assert.throws(() => parsePlatform("linux//v7"), InvalidError);
});

Deno.test("formatPlatform() writes os/arch[/variant]", () => {
  assert.equal(formatPlatform({ os: "linux", architecture: "arm", variant: "v7" }), "linux/arm/v7");
  assert.equal(
    formatPlatform(normalizePlatform({ os: "linux", architecture: "amd64", variant: "v1" })),
    "linux/amd64",
  );
});
