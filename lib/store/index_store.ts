/**
 * `<root>/index.json`: the OCI image layout's index, where every image the
 * store holds has a manifest descriptor, tagged through the
 * `org.opencontainers.image.ref.name` annotation with its full reference
 * (`docker.io/library/busybox:latest`), or untagged.
 *
 * @module
 */
import type { Descriptor, Index } from "../image/mod.ts";
import { MEDIA_TYPES, parseIndex } from "../image/mod.ts";
import { writeFileAtomic } from "./tmp.ts";

/** The annotation that names a manifest in an OCI layout. */
export const REF_NAME = "org.opencontainers.image.ref.name";

/** Reads and rewrites `index.json` (writes go through a temp file). */
export class IndexStore {
  readonly path: string;
  readonly tmpDir: string;

  constructor(path: string, tmpDir: string) {
    this.path = path;
    this.tmpDir = tmpDir;
  }

  /** The current manifest descriptors. */
  read(): Descriptor[] {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    return parseIndex(text).manifests;
  }

  /** Replaces the descriptors (call under the store lock). */
  write(manifests: Descriptor[]): void {
    const index: Index = { schemaVersion: 2, mediaType: MEDIA_TYPES.OCI_INDEX, manifests };
    writeFileAtomic(this.path, JSON.stringify(index, null, 2) + "\n", this.tmpDir);
  }

  /** Applies `change` to the descriptors and writes the result. */
  update(change: (manifests: Descriptor[]) => Descriptor[]): Descriptor[] {
    const next = change(this.read());
    this.write(next);
    return next;
  }
}
