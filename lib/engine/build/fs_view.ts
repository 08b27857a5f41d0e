/**
 * An image state's file system as a read-only {@linkcode BuildContext}, for
 * `COPY --from` and for lookups (`/etc/passwd`, "is it a directory?"): the
 * extracted layer trees read top-down with overlayfs whiteouts and opaque
 * directories honoured. Paths never leave the layers: symlinks are entries,
 * and `resolveCopy` resolves them as if the image root were `/`.
 *
 * @module
 */
import type { Digest } from "../../digest.ts";
import { lgetxattr } from "../../../ffi/fs.ts";
import { BuildContext, type ContextEntry, entryOf, implicitDir } from "../../build/context/mod.ts";
import type { Store } from "../../store/mod.ts";

/** Reads the merged tree of `chainIds` (bottom first) as a context. */
export async function layerContext(
  store: Store,
  chainIds: readonly Digest[],
): Promise<BuildContext> {
  const entries = new Map<string, ContextEntry>();
  const bodies = new Map<string, { kind: "disk"; path: string }>();
  // Top layer first: the first layer to name a path (or white it out) decides it.
  const decided = new Set<string>();
  const hidden: string[] = []; // whited-out or opaque prefixes, each ending in "/"
  const root = implicitDir("");
  for (const chain of [...chainIds].reverse()) {
    const dir = store.layers.diffPath(chain);
    const opaqueHere: string[] = [];
    await walk(dir, "", (path, full, info) => {
      if (hidden.some((h) => path.startsWith(h))) return false;
      if (decided.has(path)) {
        // An upper layer has this path: a lower directory's contents still show through
        // a directory above that is not opaque.
        return info.isDirectory && entries.get(path)?.type === "directory";
      }
      decided.add(path);
      if (info.isCharDevice && (info.rdev ?? 0) === 0) {
        opaqueHere.push(`${path}/`);
        return false;
      }
      const entry = entryOf(path, info, info.isSymlink ? Deno.readLinkSync(full) : "");
      entries.set(path, entry);
      if (entry.type === "file") bodies.set(path, { kind: "disk", path: full });
      if (entry.type !== "directory") {
        opaqueHere.push(`${path}/`);
        return false;
      }
      const opaque = lgetxattr(full, "trusted.overlay.opaque");
      if (opaque !== undefined && new TextDecoder().decode(opaque) === "y") {
        opaqueHere.push(`${path}/`);
      }
      return true;
    });
    // Lower layers see what this one hid only after this one is read whole.
    hidden.push(...opaqueHere);
  }
  return new BuildContext(root, [...entries.values()], bodies);
}

async function walk(
  dir: string,
  rel: string,
  visit: (path: string, full: string, info: Deno.FileInfo) => boolean,
): Promise<void> {
  let items: Deno.DirEntry[];
  try {
    items = await Array.fromAsync(Deno.readDir(rel === "" ? dir : `${dir}/${rel}`));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  for (const item of items) {
    const path = rel === "" ? item.name : `${rel}/${item.name}`;
    const full = `${dir}/${path}`;
    const info = await Deno.lstat(full);
    if (visit(path, full, info) && info.isDirectory) await walk(dir, path, visit);
  }
}
