import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import {
  familiarName,
  familiarString,
  formatReference,
  isValidTag,
  looksLikeImageId,
  parseReference,
  parseRepositoryTag,
  repositoryName,
} from "./reference.ts";

const HEX = "a".repeat(64);
const DIGEST = `sha256:${HEX}`;

function assertInvalid(input: string, reason = ""): void {
  assert.throws(() => parseReference(input), (error: unknown) => {
    assert.ok(error instanceof InvalidError, `${input}: ${error}`);
    assert.match(error.message, /^Invalid (reference format|repository name)/);
    assert.ok(error.message.includes(reason), error.message);
    return true;
  });
}

Deno.test("parseReference() normalises an official image name to docker.io/library with latest", () => {
  assert.deepEqual(parseReference("busybox"), {
    domain: "docker.io",
    path: "library/busybox",
    tag: "latest",
  });
  assert.deepEqual(parseReference("library/busybox"), parseReference("busybox"));
  assert.deepEqual(parseReference("docker.io/busybox"), parseReference("busybox"));
  assert.deepEqual(parseReference("index.docker.io/library/busybox"), parseReference("busybox"));
});

Deno.test("parseReference() keeps a tag and a user repository", () => {
  assert.deepEqual(parseReference("busybox:1.36"), {
    domain: "docker.io",
    path: "library/busybox",
    tag: "1.36",
  });
  assert.equal(formatReference(parseReference("user/app")), "docker.io/user/app:latest");
  assert.equal(formatReference(parseReference("a/b/c:v_1.0-rc")), "docker.io/a/b/c:v_1.0-rc");
  assert.equal(parseReference("busybox:LATEST").tag, "LATEST");
});

Deno.test("parseReference() treats a first component with a dot, a colon or localhost as a registry", () => {
  assert.deepEqual(parseReference("localhost/foo"), {
    domain: "localhost",
    path: "foo",
    tag: "latest",
  });
  assert.deepEqual(parseReference("localhost:5000/a/b:tag"), {
    domain: "localhost:5000",
    path: "a/b",
    tag: "tag",
  });
  assert.deepEqual(parseReference(`example.com:443/x/y@${DIGEST}`), {
    domain: "example.com:443",
    path: "x/y",
    digest: DIGEST,
  });
  assert.equal(parseReference("ghcr.io/o/r").domain, "ghcr.io");
  assert.equal(parseReference("[::1]:5000/r").domain, "[::1]:5000");
  assert.equal(parseReference("Registry/app").domain, "Registry");
});

Deno.test("parseReference() keeps both a tag and a digest", () => {
  const ref = parseReference(`name:tag@${DIGEST}`);
  assert.deepEqual(ref, { domain: "docker.io", path: "library/name", tag: "tag", digest: DIGEST });
  assert.equal(formatReference(ref), `docker.io/library/name:tag@${DIGEST}`);
  assert.equal(familiarString(ref), `name:tag@${DIGEST}`);
});

Deno.test("parseReference() accepts separators inside path components", () => {
  for (const name of ["a.b", "a_b", "a__b", "a-b", "a---b", "x/a.b-c_d/e__f"]) {
    assert.equal(parseReference(name).tag, "latest", name);
  }
});

Deno.test("parseReference() rejects uppercase in the repository", () => {
  assertInvalid("Busybox", `"Busybox": repository name must be lowercase`);
  assertInvalid("localhost:5000/App", "must be lowercase");
  assertInvalid("user/App:tag", "must be lowercase");
});

Deno.test("parseReference() rejects malformed references", () => {
  const cases = [
    "busy box",
    ":tag",
    "a:",
    "-a",
    "a-",
    "a//b",
    "a/",
    "a..b",
    "a___b",
    `a:${"t".repeat(129)}`,
    "a:-tag",
    "name@sha256:abc",
    "name@",
    "a:b:c",
    "exa_mple.com/a",
  ];
  for (const input of cases) assertInvalid(input);
  assert.equal(parseReference(`a:${"t".repeat(128)}`).tag?.length, 128);
});

Deno.test("parseReference() rejects a 64-hex string, an empty one and a name over 255 characters", () => {
  assertInvalid(HEX, "cannot specify 64-byte hexadecimal strings");
  assertInvalid("", "at least one component");
  // docker.io/library/ counts: 18 + 237 = 255 is the longest accepted.
  assert.equal(parseReference("a".repeat(237)).path.length, 245);
  assertInvalid("a".repeat(238), "must not be more than 255 characters");
});

Deno.test("parseReference() reports a bad digest", () => {
  assertInvalid(`a@sha256:${"a".repeat(40)}`, "invalid checksum digest length");
  assertInvalid(`a@sha256:${"A".repeat(64)}`, "invalid checksum digest format");
  assertInvalid(`a@sha512:${"a".repeat(128)}`, "unsupported digest algorithm");
});

Deno.test("familiarName() strips docker.io and library as Docker prints them", () => {
  assert.equal(familiarName(parseReference("busybox")), "busybox");
  assert.equal(familiarName(parseReference("user/app")), "user/app");
  assert.equal(familiarName(parseReference("library/a/b")), "library/a/b");
  assert.equal(familiarName(parseReference("localhost:5000/a/b")), "localhost:5000/a/b");
  assert.equal(familiarString(parseReference("busybox")), "busybox:latest");
  assert.equal(repositoryName(parseReference("busybox:1")), "docker.io/library/busybox");
});

Deno.test("parseRepositoryTag() accepts REPOSITORY[:TAG] and refuses a digest", () => {
  assert.equal(formatReference(parseRepositoryTag("my/app:v1")), "docker.io/my/app:v1");
  assert.throws(() => parseRepositoryTag(`app@${DIGEST}`), InvalidError);
});

Deno.test("isValidTag() follows [\\w][\\w.-]{0,127}", () => {
  assert.ok(isValidTag("1.36"));
  assert.ok(isValidTag("_x"));
  assert.ok(!isValidTag(".x"));
  assert.ok(!isValidTag(""));
  assert.ok(!isValidTag("t".repeat(129)));
});

Deno.test("looksLikeImageId() accepts 12 to 64 hex digits", () => {
  assert.ok(looksLikeImageId("0123456789ab"));
  assert.ok(looksLikeImageId(HEX));
  assert.ok(looksLikeImageId(DIGEST));
  assert.ok(!looksLikeImageId("0123456789a"));
  assert.ok(!looksLikeImageId("busybox"));
  assert.ok(!looksLikeImageId("0123456789AB"));
});
