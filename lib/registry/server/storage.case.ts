/**
 * The contract every {@linkcode RegistryStorage} keeps, written once and run
 * against each implementation (fs_storage_test.ts, memory_storage_test.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { sha256 } from "../../digest.ts";
import { RegistryError } from "../_errors.ts";
import { bytesStream, readAll } from "./_stream.ts";
import type { RegistryStorage } from "./storage.ts";

/** Makes a fresh storage and a cleanup for it. */
export type StorageFactory = () => Promise<{ storage: RegistryStorage; cleanup(): Promise<void> }>;

const enc = (text: string) => new TextEncoder().encode(text);
const text = async (stream: ReadableStream<Uint8Array>) =>
  new TextDecoder().decode(await readAll(stream));

async function rejectsCode(
  promise: Promise<unknown>,
  code: string,
  status?: number,
): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof RegistryError, String(error));
    assert.equal(error.code, code);
    if (status !== undefined) assert.equal(error.status, status);
    return true;
  });
}

/** Registers the contract's tests for one implementation. */
export function storageContract(name: string, make: StorageFactory): void {
  const test = (what: string, fn: (s: RegistryStorage) => Promise<void>) =>
    Deno.test(`${name}: ${what}`, async () => {
      const { storage, cleanup } = await make();
      try {
        await fn(storage);
      } finally {
        await cleanup();
      }
    });

  test("putBlob() stores verified content and reads ranges", async (s) => {
    const digest = sha256("hello world");
    assert.deepEqual(await s.putBlob(bytesStream(enc("hello world")), digest), {
      digest,
      size: 11,
    });
    assert.deepEqual(await s.statBlob(digest), { digest, size: 11 });
    assert.equal(await text(await s.readBlob(digest)), "hello world");
    assert.equal(await text(await s.readBlob(digest, { start: 6, end: 10 })), "world");
    assert.deepEqual(await s.listBlobs(), [digest]);
    assert.equal(await s.deleteBlob(digest), true);
    assert.equal(await s.statBlob(digest), undefined);
    await rejectsCode(s.readBlob(digest), "BLOB_UNKNOWN");
  });

  test("putBlob() refuses a mismatch or an oversize stream and stores nothing", async (s) => {
    await rejectsCode(s.putBlob(bytesStream(enc("other")), sha256("claimed")), "DIGEST_INVALID");
    await rejectsCode(
      s.putBlob(bytesStream(enc("12345")), sha256("12345"), { maxSize: 4 }),
      "SIZE_INVALID",
      413,
    );
    assert.deepEqual(await s.listBlobs(), []);
  });

  test("links make a blob visible per repository", async (s) => {
    const digest = sha256("x");
    await s.putBlob(bytesStream(enc("x")), digest);
    await s.linkBlob("a/b", digest);
    assert.equal(await s.isBlobLinked("a/b", digest), true);
    assert.equal(await s.isBlobLinked("a", digest), false);
    assert.deepEqual(await s.listBlobLinks("a/b"), [digest]);
    assert.equal(await s.hasRepository("a/b"), true);
    assert.equal(await s.hasRepository("a"), false);
    assert.equal(await s.unlinkBlob("a/b", digest), true);
    assert.equal(await s.unlinkBlob("a/b", digest), false);
  });

  test("removeEmptyRepository() forgets only a repository that holds nothing", async (s) => {
    const digest = sha256("x");
    await s.putBlob(bytesStream(enc("x")), digest);
    await s.linkBlob("a", digest);
    await s.linkBlob("a/b", digest);
    assert.equal(await s.removeEmptyRepository("a/b"), false, "it has a link");
    assert.equal(await s.removeEmptyRepository("nope"), false);
    await s.unlinkBlob("a/b", digest);
    assert.equal(await s.removeEmptyRepository("a/b"), true);
    assert.deepEqual(await s.listRepositories(), ["a"]);
    assert.equal(await s.hasRepository("a/b"), false);
    assert.equal(await s.isBlobLinked("a", digest), true, "the parent repository is untouched");
    await s.linkBlob("a/b", digest);
    assert.equal(await s.isBlobLinked("a/b", digest), true, "the name can be used again");
  });

  test("manifests, tags and referrers", async (s) => {
    const body = enc('{"schemaVersion":2}');
    const digest = sha256(body);
    const mediaType = "application/vnd.oci.image.manifest.v1+json";
    await s.putManifest("repo", { digest, mediaType, bytes: body });
    assert.deepEqual(await s.getManifest("repo", digest), { digest, mediaType, bytes: body });
    assert.equal(await s.getManifest("other", digest), undefined);
    assert.deepEqual(await s.listManifests("repo"), [digest]);
    await s.setTag("repo", "v2", digest);
    await s.setTag("repo", "v1", digest);
    assert.equal(await s.resolveTag("repo", "v1"), digest);
    assert.deepEqual(await s.listTags("repo"), ["v1", "v2"]);
    assert.equal(await s.deleteTag("repo", "v2"), true);
    assert.equal(await s.resolveTag("repo", "v2"), undefined);
    const subject = sha256("subject");
    await s.addReferrer("repo", subject, {
      mediaType,
      digest,
      size: body.byteLength,
      artifactType: "x/y",
    });
    assert.deepEqual(await s.listReferrers("repo", subject), [{
      mediaType,
      digest,
      size: body.byteLength,
      artifactType: "x/y",
    }]);
    await s.removeReferrer("repo", subject, digest);
    assert.deepEqual(await s.listReferrers("repo", subject), []);
    assert.equal(await s.deleteManifest("repo", digest), true);
    assert.equal(await s.getManifest("repo", digest), undefined);
    await s.linkBlob("a/nested/name", digest);
    assert.deepEqual(await s.listRepositories(), ["a/nested/name", "repo"]);
    await rejectsCode(
      s.putManifest("repo", { digest: sha256("no"), mediaType, bytes: body }),
      "DIGEST_INVALID",
    );
  });

  test("uploads: append in order, finish verified, cancel, expire", async (s) => {
    const up = await s.createUpload("repo");
    assert.equal(up.size, 0);
    assert.equal(await s.getUpload("other", up.id), undefined);
    await s.appendUpload("repo", up.id, bytesStream(enc("hello ")), { offset: 0, length: 6 });
    await rejectsCode(
      s.appendUpload("repo", up.id, bytesStream(enc("x")), { offset: 2 }),
      "BLOB_UPLOAD_INVALID",
      416,
    );
    await rejectsCode(
      s.appendUpload("repo", up.id, bytesStream(enc("xy")), { length: 5 }),
      "BLOB_UPLOAD_INVALID",
    );
    await rejectsCode(
      s.appendUpload("repo", up.id, bytesStream(enc("toolong")), { maxSize: 8 }),
      "SIZE_INVALID",
    );
    assert.equal((await s.appendUpload("repo", up.id, bytesStream(enc("world")))).size, 11);
    assert.equal(
      (await s.getUpload("repo", up.id))?.size,
      11,
      "failed appends left nothing behind",
    );
    assert.deepEqual(await s.finishUpload("repo", up.id, sha256("hello world")), {
      digest: sha256("hello world"),
      size: 11,
    });
    assert.equal(await s.getUpload("repo", up.id), undefined);
    assert.equal(await text(await s.readBlob(sha256("hello world"))), "hello world");

    const bad = await s.createUpload("repo");
    await s.appendUpload("repo", bad.id, bytesStream(enc("abc")));
    await rejectsCode(s.finishUpload("repo", bad.id, sha256("abd")), "DIGEST_INVALID");
    assert.equal(await s.statBlob(sha256("abc")), undefined);
    await rejectsCode(s.finishUpload("repo", bad.id, sha256("abc")), "BLOB_UPLOAD_UNKNOWN");

    const cancelled = await s.createUpload("repo");
    assert.equal(await s.cancelUpload("repo", cancelled.id), true);
    assert.equal(await s.cancelUpload("repo", cancelled.id), false);
    const stale = await s.createUpload("repo");
    assert.deepEqual(await s.expireUploads(new Date(Date.now() - 60_000)), []);
    const later = new Date(Date.now() + 60_000);
    assert.deepEqual(await s.expireUploads(later, { dryRun: true }), [stale.id]);
    assert.equal((await s.getUpload("repo", stale.id))?.id, stale.id, "a dry run keeps it");
    assert.deepEqual(await s.expireUploads(later), [stale.id]);
    await rejectsCode(s.appendUpload("repo", stale.id, null), "BLOB_UPLOAD_UNKNOWN");
  });
}
