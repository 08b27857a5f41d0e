import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chainIds, Hasher, loadNativeSha256, sha256 } from "./digest.ts";
import { Sha256 } from "./sha256.ts";

const hexOf = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const nodeHex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

Deno.test("Sha256 matches FIPS 180-4's examples", () => {
  const enc = new TextEncoder();
  assert.equal(
    hexOf(new Sha256().update(enc.encode("abc")).digest()),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    hexOf(
      new Sha256()
        .update(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
        .digest(),
    ),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    hexOf(new Sha256().digest()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

Deno.test("Sha256 matches node:crypto at every length around the block and padding edges", () => {
  const data = new Uint8Array(300);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
  for (let n = 0; n <= data.length; n++) {
    const bytes = data.subarray(0, n);
    assert.equal(hexOf(new Sha256().update(bytes).digest()), nodeHex(bytes), `length ${n}`);
  }
});

Deno.test("Sha256 gives the same hash however the input is split into updates", () => {
  const data = crypto.getRandomValues(new Uint8Array(4096));
  const whole = nodeHex(data);
  for (const step of [1, 3, 63, 64, 65, 1000]) {
    const h = new Sha256();
    for (let off = 0; off < data.length; off += step) h.update(data.subarray(off, off + step));
    assert.equal(hexOf(h.digest()), whole, `step ${step}`);
  }
});

Deno.test("Hasher and sha256() agree before and after loadNativeSha256()", async () => {
  const data = crypto.getRandomValues(new Uint8Array(10_000));
  const expected = `sha256:${nodeHex(data)}`;
  const before = new Hasher();
  before.update(data.subarray(0, 5000));
  before.update(data.subarray(5000));
  assert.equal(before.digest(), expected);
  assert.equal(before.size, data.length);
  assert.equal(sha256(data), expected);
  await loadNativeSha256();
  const after = new Hasher();
  after.update(data);
  assert.equal(after.digest(), expected);
  assert.equal(sha256("abc"), `sha256:${nodeHex(new TextEncoder().encode("abc"))}`);
});

Deno.test("chainIds() hashes each parent chain ID with the next diff ID", () => {
  const a = sha256("a");
  const b = sha256("b");
  assert.deepEqual(chainIds([a, b]), [a, sha256(`${a} ${b}`)]);
});
