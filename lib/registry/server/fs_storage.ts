/**
 * {@linkcode RegistryStorage} on a local directory:
 *
 *     blobs/sha256/<hex>                          blob data, named by its verified digest
 *     repositories/<name>/_layers/<hex>           the blob is visible in <name>
 *     repositories/<name>/_manifests/<hex>        a manifest of <name>; holds its media type
 *     repositories/<name>/_tags/<tag>             holds the tagged manifest's digest
 *     repositories/<name>/_referrers/<subject-hex>/<hex>   a referrer's descriptor
 *     uploads/<id>/data, uploads/<id>/info.json   upload sessions
 *     tmp/                                        writes in progress, renamed into place
 *
 * Name components never start with `_`, so the `_` folders cannot clash with a
 * nested repository name.
 *
 * @module
 */
import { type Digest, digestHex, sha256 } from "../../digest.ts";
import { RegistryError } from "../_errors.ts";
import {
  fileStream,
  freeBytes,
  listNames,
  removeIfExists,
  statOrUndefined,
  writeAtomic,
} from "./_fs_util.ts";
import { FsUploads } from "./_fs_uploads.ts";
import type {
  AppendOptions,
  BlobInfo,
  ByteRange,
  Descriptor,
  ManifestRecord,
  RegistryStorage,
  UploadInfo,
  WriteOptions,
} from "./storage.ts";

const MARKERS = new Set(["_layers", "_manifests", "_tags", "_referrers"]);

/** A registry's storage in a directory of the local filesystem. */
export class FsStorage implements RegistryStorage {
  /** The storage directory. */
  readonly root: string;
  #tmp: string;
  #uploads: FsUploads;

  /** Uses (and creates on first write) the directory `root`. */
  constructor(root: string) {
    this.root = root.replace(/\/+$/, "") || "/";
    this.#tmp = `${this.root}/tmp`;
    this.#uploads = new FsUploads(this.root, (tmp) => this.#commit(tmp.path, tmp.digest));
  }

  #blob(digest: Digest): string {
    return `${this.root}/blobs/sha256/${digestHex(digest)}`;
  }

  #repo(repo: string, ...parts: string[]): string {
    return [`${this.root}/repositories/${repo}`, ...parts].join("/");
  }

  async #ensureTmp(): Promise<void> {
    await Deno.mkdir(this.#tmp, { recursive: true });
  }

  /** Renames a verified temp file into the blob store (keeping an existing copy). */
  async #commit(tmp: string, digest: Digest): Promise<void> {
    const path = this.#blob(digest);
    await Deno.mkdir(`${this.root}/blobs/sha256`, { recursive: true });
    await Deno.rename(tmp, path);
  }

  async statBlob(digest: Digest): Promise<BlobInfo | undefined> {
    const info = await statOrUndefined(this.#blob(digest));
    return info?.isFile ? { digest, size: info.size } : undefined;
  }

  async readBlob(digest: Digest, range?: ByteRange): Promise<ReadableStream<Uint8Array>> {
    try {
      return await fileStream(this.#blob(digest), range);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new RegistryError("BLOB_UNKNOWN", undefined, { detail: { digest } });
      }
      throw error;
    }
  }

  async putBlob(
    stream: ReadableStream<Uint8Array>,
    expected: Digest,
    options: WriteOptions = {},
  ): Promise<BlobInfo> {
    await this.#ensureTmp();
    return await this.#uploads.writeVerified(stream, expected, this.#tmp, options);
  }

  async deleteBlob(digest: Digest): Promise<boolean> {
    return await removeIfExists(this.#blob(digest));
  }

  async listBlobs(): Promise<Digest[]> {
    const entries = await listNames(`${this.root}/blobs/sha256`);
    return entries.filter((e) => e.isFile && /^[a-f0-9]{64}$/.test(e.name))
      .map((e) => `sha256:${e.name}` as Digest).sort();
  }

  async freeSpace(): Promise<number | undefined> {
    await Deno.mkdir(this.root, { recursive: true });
    return await freeBytes(this.root);
  }

  async linkBlob(repo: string, digest: Digest): Promise<void> {
    await this.#ensureTmp();
    await writeAtomic(this.#tmp, this.#repo(repo, "_layers", digestHex(digest)), "");
  }

  async unlinkBlob(repo: string, digest: Digest): Promise<boolean> {
    return await removeIfExists(this.#repo(repo, "_layers", digestHex(digest)));
  }

  async isBlobLinked(repo: string, digest: Digest): Promise<boolean> {
    return (await statOrUndefined(this.#repo(repo, "_layers", digestHex(digest)))) !== undefined;
  }

  async listBlobLinks(repo: string): Promise<Digest[]> {
    return await this.#digestsIn(this.#repo(repo, "_layers"));
  }

  async #digestsIn(dir: string): Promise<Digest[]> {
    const entries = await listNames(dir);
    return entries.filter((e) => /^[a-f0-9]{64}$/.test(e.name)).map((e) =>
      `sha256:${e.name}` as Digest
    ).sort();
  }

  async putManifest(repo: string, record: ManifestRecord): Promise<void> {
    if (sha256(record.bytes) !== record.digest) {
      throw new RegistryError("DIGEST_INVALID", undefined, { detail: { digest: record.digest } });
    }
    await this.#ensureTmp();
    if ((await this.statBlob(record.digest)) === undefined) {
      await writeAtomic(this.#tmp, this.#blob(record.digest), record.bytes);
    }
    await writeAtomic(
      this.#tmp,
      this.#repo(repo, "_manifests", digestHex(record.digest)),
      record.mediaType,
    );
  }

  async getManifest(repo: string, digest: Digest): Promise<ManifestRecord | undefined> {
    try {
      const mediaType = await Deno.readTextFile(this.#repo(repo, "_manifests", digestHex(digest)));
      const bytes = await Deno.readFile(this.#blob(digest));
      return { digest, mediaType, bytes };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  async deleteManifest(repo: string, digest: Digest): Promise<boolean> {
    return await removeIfExists(this.#repo(repo, "_manifests", digestHex(digest)));
  }

  async listManifests(repo: string): Promise<Digest[]> {
    return await this.#digestsIn(this.#repo(repo, "_manifests"));
  }

  async setTag(repo: string, tag: string, digest: Digest): Promise<void> {
    await this.#ensureTmp();
    await writeAtomic(this.#tmp, this.#repo(repo, "_tags", tag), digest);
  }

  async resolveTag(repo: string, tag: string): Promise<Digest | undefined> {
    try {
      const text = (await Deno.readTextFile(this.#repo(repo, "_tags", tag))).trim();
      return /^sha256:[a-f0-9]{64}$/.test(text) ? text as Digest : undefined;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  async deleteTag(repo: string, tag: string): Promise<boolean> {
    return await removeIfExists(this.#repo(repo, "_tags", tag));
  }

  async listTags(repo: string): Promise<string[]> {
    const entries = await listNames(this.#repo(repo, "_tags"));
    return entries.filter((e) => e.isFile).map((e) => e.name).sort();
  }

  async addReferrer(repo: string, subject: Digest, descriptor: Descriptor): Promise<void> {
    await this.#ensureTmp();
    const path = this.#repo(repo, "_referrers", digestHex(subject), digestHex(descriptor.digest));
    await writeAtomic(this.#tmp, path, JSON.stringify(descriptor));
  }

  async removeReferrer(repo: string, subject: Digest, digest: Digest): Promise<void> {
    await removeIfExists(this.#repo(repo, "_referrers", digestHex(subject), digestHex(digest)));
  }

  async listReferrers(repo: string, subject: Digest): Promise<Descriptor[]> {
    const dir = this.#repo(repo, "_referrers", digestHex(subject));
    const out: Descriptor[] = [];
    for (const digest of await this.#digestsIn(dir)) {
      try {
        out.push(JSON.parse(await Deno.readTextFile(`${dir}/${digestHex(digest)}`)) as Descriptor);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    return out;
  }

  async hasRepository(repo: string): Promise<boolean> {
    const entries = await listNames(this.#repo(repo));
    return entries.some((e) => MARKERS.has(e.name));
  }

  async listRepositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await listNames(dir);
      if (prefix !== "" && entries.some((e) => MARKERS.has(e.name))) out.push(prefix);
      for (const e of entries) {
        if (e.isDirectory && !e.name.startsWith("_")) {
          await walk(`${dir}/${e.name}`, prefix === "" ? e.name : `${prefix}/${e.name}`);
        }
      }
    };
    await walk(`${this.root}/repositories`, "");
    return out.sort();
  }

  /** Removes its empty `_` folders, then its folder and parents that nothing else is in. */
  async removeEmptyRepository(repo: string): Promise<boolean> {
    const dir = this.#repo(repo);
    if (!(await this.hasRepository(repo))) return false;
    for (const marker of ["_layers", "_manifests", "_tags"]) {
      if ((await listNames(`${dir}/${marker}`)).length > 0) return false;
    }
    const subjects = await listNames(`${dir}/_referrers`);
    for (const subject of subjects) {
      if ((await listNames(`${dir}/_referrers/${subject.name}`)).length > 0) return false;
    }
    // Not recursive: a folder that is not empty after all stops the removal with an error.
    for (const subject of subjects) await Deno.remove(`${dir}/_referrers/${subject.name}`);
    for (const marker of MARKERS) await removeIfExists(`${dir}/${marker}`);
    // A nested repository ("a/b" inside "a") keeps its parents' folders.
    const top = `${this.root}/repositories`;
    for (let path = dir; path !== top; path = path.slice(0, path.lastIndexOf("/"))) {
      if ((await listNames(path)).length > 0) break;
      await removeIfExists(path);
    }
    return true;
  }

  createUpload(repo: string): Promise<UploadInfo> {
    return this.#uploads.create(repo);
  }

  getUpload(repo: string, id: string): Promise<UploadInfo | undefined> {
    return this.#uploads.get(repo, id);
  }

  appendUpload(
    repo: string,
    id: string,
    stream: ReadableStream<Uint8Array> | null,
    options?: AppendOptions,
  ): Promise<UploadInfo> {
    return this.#uploads.append(repo, id, stream, options);
  }

  finishUpload(repo: string, id: string, expected: Digest): Promise<BlobInfo> {
    return this.#uploads.finish(repo, id, expected);
  }

  cancelUpload(repo: string, id: string): Promise<boolean> {
    return this.#uploads.cancel(repo, id);
  }

  /** Also removes temp files older than `before` (left by a crash mid-write). */
  async expireUploads(before: Date, options: { dryRun?: boolean } = {}): Promise<string[]> {
    if (options.dryRun) return await this.#uploads.expire(before, true);
    for (const entry of await listNames(this.#tmp)) {
      const mtime = (await statOrUndefined(`${this.#tmp}/${entry.name}`))?.mtime;
      if (mtime != null && mtime < before) await removeIfExists(`${this.#tmp}/${entry.name}`, true);
    }
    return await this.#uploads.expire(before);
  }
}
