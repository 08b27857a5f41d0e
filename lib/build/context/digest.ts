/**
 * The content digest of a COPY/ADD's sources, the build cache's key for
 * them: it changes with any path, type, mode, link target or byte of
 * content, and not with modification times (as buildkit ignores them).
 *
 * @module
 */
import { type Digest, sha256 } from "../../digest.ts";
import type { BuildContext } from "./context.ts";
import type { CopyItem } from "./match.ts";

/** Options for {@linkcode digestSources}. */
export interface DigestSourcesOptions {
  /** Include each entry's uid/gid (when ownership is copied, not reset). @default false */
  owner?: boolean;
}

/**
 * Computes the digest of the items a COPY/ADD creates.
 * @param context the context the items come from (file digests are cached there)
 * @param items what {@linkcode resolveCopy} returned
 * @returns `sha256:` over the sorted records of every item
 */
export async function digestSources(
  context: BuildContext,
  items: readonly CopyItem[],
  options: DigestSourcesOptions = {},
): Promise<Digest> {
  const sorted = [...items].sort((a, b) => a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0);
  const records = await Promise.all(sorted.map(async ({ entry, dest }) => {
    const content = entry.type === "file" ? await context.fileDigest(entry.path) : "";
    const owner = options.owner ? `${entry.uid}:${entry.gid}` : "";
    // JSON quoting keeps any byte of a path or link target from forging a separator.
    return JSON.stringify([
      dest,
      entry.type,
      entry.mode.toString(8),
      owner,
      entry.linkTarget,
      content,
    ]);
  }));
  return sha256(records.join("\n"));
}
