import assert from "node:assert/strict";
import { RegistryError } from "../_errors.ts";
import {
  isRepositoryName,
  isTag,
  parseManifestLookup,
  parseManifestReference,
  validateDigest,
  validateName,
} from "./names.ts";

Deno.test("isRepositoryName() follows the distribution-spec grammar", () => {
  for (const ok of ["a", "library/busybox", "a.b/c_d/e__f/g-h--i", "0/1/2", "x".repeat(255)]) {
    assert.ok(isRepositoryName(ok), ok);
  }
  for (
    const bad of [
      "",
      "..",
      "a..b",
      "a/../b",
      "../a",
      "a/",
      "/a",
      "A",
      "a_",
      "a___b",
      "a//b",
      "a%2f",
      "x".repeat(256),
      "_a",
    ]
  ) {
    assert.ok(!isRepositoryName(bad), bad);
  }
});

Deno.test("validateName() throws NAME_INVALID", () => {
  assert.throws(
    () => validateName("a/../b"),
    (e) => e instanceof RegistryError && e.code === "NAME_INVALID",
  );
});

Deno.test("isTag() allows 128 characters starting with a word character", () => {
  assert.ok(isTag("v1.0_rc-1"));
  assert.ok(isTag("_"));
  assert.ok(isTag("a".repeat(128)));
  assert.ok(!isTag("a".repeat(129)));
  assert.ok(!isTag(".hidden"));
  assert.ok(!isTag("-x"));
  assert.ok(!isTag("a/b"));
});

Deno.test("validateDigest() accepts sha256 only, naming other algorithms", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  assert.equal(validateDigest(digest), digest);
  assert.throws(
    () => validateDigest(`sha512:${"a".repeat(128)}`),
    /Unsupported digest algorithm: "sha512"/,
  );
  assert.throws(
    () => validateDigest(`sha256:${"A".repeat(64)}`),
    (e) => e instanceof RegistryError && e.code === "DIGEST_INVALID",
  );
  assert.throws(() => validateDigest("sha256:../../etc"), /Invalid digest/);
});

Deno.test("parseManifestReference() tells tags from digests", () => {
  assert.deepEqual(parseManifestReference("latest"), { tag: "latest" });
  const digest = `sha256:${"0".repeat(64)}`;
  assert.deepEqual(parseManifestReference(digest), { digest });
  assert.throws(
    () => parseManifestReference(".."),
    (e) => e instanceof RegistryError && e.code === "MANIFEST_INVALID",
  );
});

Deno.test("parseManifestLookup() answers 404 MANIFEST_UNKNOWN for what is neither tag nor digest", () => {
  assert.deepEqual(parseManifestLookup("latest"), { tag: "latest" });
  const digest = `sha256:${"0".repeat(64)}`;
  assert.deepEqual(parseManifestLookup(digest), { digest });
  for (const bad of [".INVALID_MANIFEST_NAME", "..", "sha256:short", `sha512:${"a".repeat(128)}`]) {
    assert.throws(
      () => parseManifestLookup(bad),
      (e) => e instanceof RegistryError && e.code === "MANIFEST_UNKNOWN" && e.status === 404,
      bad,
    );
  }
});
