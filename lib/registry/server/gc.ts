/**
 * Garbage collection of a registry's storage: blobs that no manifest of any
 * repository references are removed (with their links), optionally the
 * manifests no tag reaches, and abandoned upload sessions. Run it while the
 * server is stopped: a blob pushed for a manifest that has not arrived yet
 * counts as garbage.
 *
 * Upload sessions: the distribution registry purges sessions by age (a week)
 * from inside the running server, and so does `serveRegistry` (an hour idle).
 * gc runs with the server stopped, and then no session is in progress: nothing
 * can append to it, and clients (docker, skopeo, berth) start a failed blob
 * upload over in a new session rather than resume one across a restart. So
 * gc removes every session not written to since it started; the only ones it
 * keeps are being written at that moment (a server left running) or by this
 * very process.
 *
 * @module
 */
import type { Digest } from "../../digest.ts";
import { inspectManifest } from "./_manifest.ts";
import type { RegistryStorage } from "./storage.ts";

/** Options for {@linkcode collectGarbage}. */
export interface GcOptions {
  /** Report what would go, remove nothing. @default false */
  dryRun?: boolean;
  /**
   * Also remove manifests that no tag reaches (directly, through an index,
   * or as a referrer of a reachable manifest). @default false
   */
  deleteUntagged?: boolean;
  /**
   * Upload sessions not written to since this are removed.
   * @default the time gc starts: every session not being written to
   */
  uploadsBefore?: Date;
}

/** What {@linkcode collectGarbage} removed (or would remove). */
export interface GcReport {
  /** Blobs removed, with their sizes. */
  blobs: { digest: Digest; size: number }[];
  /** Manifests removed (only with `deleteUntagged`). */
  manifests: { repo: string; digest: Digest }[];
  /** Upload sessions expired (or, in a dry run, that would be). */
  uploads: string[];
  /** Repositories left with nothing (no link, manifest or tag), removed. */
  repositories: string[];
  /** Bytes of the removed blobs. */
  freedBytes: number;
}

/** The manifests of `repo` that tags reach, through index children and referrers. */
async function reachable(
  storage: RegistryStorage,
  repo: string,
  all: Digest[],
): Promise<Set<Digest>> {
  const keep = new Set<Digest>();
  for (const tag of await storage.listTags(repo)) {
    const digest = await storage.resolveTag(repo, tag);
    if (digest !== undefined) keep.add(digest);
  }
  const children = new Map<Digest, Digest[]>();
  const subjects = new Map<Digest, Digest>();
  for (const digest of all) {
    const record = await storage.getManifest(repo, digest);
    if (record === undefined) continue;
    const refs = inspectManifest(record.bytes, record.mediaType);
    children.set(digest, refs.manifests.map((d) => d.digest));
    if (refs.subject !== undefined) subjects.set(digest, refs.subject.digest);
  }
  for (let grew = true; grew;) {
    grew = false;
    for (const digest of all) {
      if (keep.has(digest)) continue;
      const subject = subjects.get(digest);
      const isChild = [...keep].some((k) => children.get(k)?.includes(digest));
      if (isChild || (subject !== undefined && keep.has(subject))) {
        keep.add(digest);
        grew = true;
      }
    }
  }
  return keep;
}

/**
 * Removes unreferenced blobs (and untagged manifests when asked).
 * @throws {RegistryError} MANIFEST_INVALID when a stored manifest cannot be read (nothing is removed)
 */
export async function collectGarbage(
  storage: RegistryStorage,
  options: GcOptions = {},
): Promise<GcReport> {
  const started = new Date();
  const report: GcReport = {
    blobs: [],
    manifests: [],
    uploads: [],
    repositories: [],
    freedBytes: 0,
  };
  const used = new Set<Digest>();
  const repos = await storage.listRepositories();
  const plans: { repo: string; drop: { digest: Digest; subject?: Digest }[] }[] = [];
  for (const repo of repos) {
    const all = await storage.listManifests(repo);
    const keep = options.deleteUntagged ? await reachable(storage, repo, all) : new Set(all);
    const drop: { digest: Digest; subject?: Digest }[] = [];
    for (const digest of all) {
      const record = await storage.getManifest(repo, digest);
      if (record === undefined) continue;
      const refs = inspectManifest(record.bytes, record.mediaType);
      if (!keep.has(digest)) {
        drop.push(
          refs.subject === undefined ? { digest } : { digest, subject: refs.subject.digest },
        );
        continue;
      }
      used.add(digest);
      for (const blob of refs.blobs) used.add(blob.digest);
    }
    plans.push({ repo, drop });
  }
  for (const { repo, drop } of plans) {
    for (const { digest, subject } of drop) {
      report.manifests.push({ repo, digest });
      if (options.dryRun) continue;
      if (subject !== undefined) await storage.removeReferrer(repo, subject, digest);
      await storage.deleteManifest(repo, digest);
    }
  }
  for (const digest of await storage.listBlobs()) {
    if (used.has(digest)) continue;
    const size = (await storage.statBlob(digest))?.size ?? 0;
    report.blobs.push({ digest, size });
    report.freedBytes += size;
    if (!options.dryRun) await storage.deleteBlob(digest);
  }
  for (const { repo, drop } of plans) {
    if (options.dryRun) {
      // Empty afterwards: no tag, every manifest dropped, every link unused.
      const tags = await storage.listTags(repo);
      const manifests = await storage.listManifests(repo);
      const links = await storage.listBlobLinks(repo);
      if (
        tags.length === 0 && manifests.every((d) => drop.some((x) => x.digest === d)) &&
        links.every((d) => !used.has(d))
      ) {
        report.repositories.push(repo);
      }
      continue;
    }
    for (const digest of await storage.listBlobLinks(repo)) {
      if (!used.has(digest)) await storage.unlinkBlob(repo, digest);
    }
    // What an abandoned push (blobs, no manifest) or deletes left: empty folders.
    if (await storage.removeEmptyRepository(repo)) report.repositories.push(repo);
  }
  report.uploads = await storage.expireUploads(options.uploadsBefore ?? started, {
    dryRun: options.dryRun ?? false,
  });
  return report;
}
