import assert from "node:assert/strict";
import { DigestMismatchError, NotFoundError } from "../errors.ts";
import { sha256 } from "../digest.ts";
import { openStore } from "./mod.ts";

async function withStore(fn: (root: string) => Promise<void> | void): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "berth-store-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("openStore() lays out an OCI image layout once", () =>
  withStore((root) => {
    openStore(root);
    assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${root}/oci-layout`)), {
      imageLayoutVersion: "1.0.0",
    });
    assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${root}/index.json`)).manifests, []);
    const store = openStore(root);
    assert.deepEqual(store.index.read(), []);
  }));

Deno.test("BlobStore stores a blob only after its digest is checked", () =>
  withStore(async (root) => {
    const store = openStore(root);
    const bytes = new TextEncoder().encode("hello");
    await assert.rejects(
      () => store.blobs.stageStream(ReadableStream.from([bytes]), sha256("other")),
      DigestMismatchError,
    );
    assert.deepEqual(store.blobs.list(), []);
    assert.deepEqual([...Deno.readDirSync(`${root}/tmp`)], [], "the rejected temp file is gone");

    const staged = await store.blobs.stageStream(ReadableStream.from([bytes]), sha256("hello"));
    assert.equal(store.blobs.has(staged.digest), false, "staged blobs are invisible");
    store.blobs.commit(staged);
    assert.deepEqual(store.blobs.read(sha256("hello")), bytes);
    assert.throws(() => store.blobs.read(sha256("absent")), NotFoundError);
  }));

Deno.test("BlobStore.read() notices a blob corrupted on disk", () =>
  withStore((root) => {
    const store = openStore(root);
    store.blobs.commit(store.blobs.stageBytes(new TextEncoder().encode("data")));
    Deno.writeTextFileSync(store.blobs.path(sha256("data")), "tampered");
    assert.throws(() => store.blobs.read(sha256("data")), DigestMismatchError);
  }));

Deno.test("openStore() clears tmp/ entries of dead processes and keeps live ones", () =>
  withStore((root) => {
    openStore(root);
    Deno.writeTextFileSync(`${root}/tmp/999999999-x-0-y.blob`, "left by a killed process");
    Deno.writeTextFileSync(`${root}/tmp/${Deno.pid}-x-0-y.blob`, "mine");
    openStore(root);
    assert.deepEqual([...Deno.readDirSync(`${root}/tmp`)].map((e) => e.name), [
      `${Deno.pid}-x-0-y.blob`,
    ]);
  }));

Deno.test("openStore() detaches a dead process's mount in tmp/ and never removes through it", () =>
  withStore(async (root) => {
    openStore(root);
    // A killed `cp` leaves a container's files mounted at a tmp/ entry of its pid.
    const files = `${root}/container-files`;
    Deno.mkdirSync(files);
    Deno.writeTextFileSync(`${files}/keep`, "a container's file");
    const stale = `${root}/tmp/999999999-x-0-cp`;
    Deno.mkdirSync(stale);
    const bind = await new Deno.Command("mount", { args: ["--bind", files, stale] }).output();
    assert.ok(bind.success, "mount --bind");
    try {
      openStore(root);
      assert.equal(Deno.readTextFileSync(`${files}/keep`), "a container's file");
      assert.deepEqual([...Deno.readDirSync(`${root}/tmp`)], []);
      const mounted = Deno.readTextFileSync("/proc/self/mountinfo").includes(` ${stale} `);
      assert.ok(!mounted, "the mount is detached");
    } finally {
      await new Deno.Command("umount", { args: ["-l", stale] }).output();
    }
  }));

Deno.test("store.locked() serialises concurrent index updates", () =>
  withStore(async (root) => {
    const a = openStore(root);
    const b = openStore(root);
    const digest = (n: number) => sha256(String(n));
    await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        (n % 2 ? a : b).locked(async () => {
          const current = a.index.read();
          await new Promise((r) => setTimeout(r, 2));
          a.index.write([...current, {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: digest(n),
            size: n,
          }]);
        })),
    );
    assert.equal(a.index.read().length, 10);
  }));
