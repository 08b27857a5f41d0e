/**
 * Extracted layers, once per chain ID: `<root>/layers/<chain-hex>/diff` is the
 * layer's own tree (an overlayfs lowerdir, whiteouts as 0/0 char devices) and
 * `layer.json` its metadata. Every image whose layer stack has that chain ID
 * shares the directory.
 *
 * @module
 */
import { type Digest, digestHex } from "../digest.ts";
import { InvalidError } from "../errors.ts";
import { tempPath, writeFileAtomic } from "./tmp.ts";

/** What berth records about an extracted layer. */
export interface LayerInfo {
  chainId: Digest;
  diffId: Digest;
  /** Size in bytes of the uncompressed layer tar. */
  size: number;
}

/** A layer being extracted in `tmp/`, not yet visible. */
export interface StagedLayer {
  /** Directory holding `diff/`; renamed to `layers/<chain-hex>` on commit. */
  path: string;
  /** Where to extract the layer's files. */
  diff: string;
}

/** The layer directory of a store. */
export class LayerStore {
  readonly dir: string;
  readonly tmpDir: string;

  constructor(dir: string, tmpDir: string) {
    this.dir = dir;
    this.tmpDir = tmpDir;
  }

  /** Path of the extracted tree of a layer (an overlay lowerdir). */
  diffPath(chainId: Digest): string {
    return `${this.dir}/${digestHex(chainId)}/diff`;
  }

  has(chainId: Digest): boolean {
    try {
      Deno.statSync(`${this.dir}/${digestHex(chainId)}/layer.json`);
      return true;
    } catch {
      return false;
    }
  }

  /** Metadata of an extracted layer, or undefined when it is absent. */
  info(chainId: Digest): LayerInfo | undefined {
    try {
      const text = Deno.readTextFileSync(`${this.dir}/${digestHex(chainId)}/layer.json`);
      return JSON.parse(text) as LayerInfo;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new InvalidError(`Layer "${chainId}" has unreadable metadata`, { cause: error });
    }
  }

  /** Creates an empty staging directory to extract a layer into. */
  stage(): StagedLayer {
    const path = tempPath(this.tmpDir, ".layer");
    const diff = `${path}/diff`;
    Deno.mkdirSync(diff, { recursive: true, mode: 0o755 });
    return { path, diff };
  }

  /**
   * Records the metadata and renames the staged layer into place; when the
   * chain ID is already present (another image or process got there first)
   * the staged copy is dropped. Call under the store lock.
   */
  commit(staged: StagedLayer, info: LayerInfo): void {
    if (this.has(info.chainId)) {
      this.discard(staged);
      return;
    }
    writeFileAtomic(`${staged.path}/layer.json`, JSON.stringify(info), this.tmpDir);
    Deno.renameSync(staged.path, `${this.dir}/${digestHex(info.chainId)}`);
  }

  /** Removes a staged layer that will not be committed. */
  discard(staged: StagedLayer): void {
    removeTree(staged.path);
  }

  /**
   * Removes a layer: first renamed into `tmp/` (atomic, so no reader sees
   * half a tree), then deleted. Call under the store lock.
   */
  remove(chainId: Digest): void {
    const dest = tempPath(this.tmpDir, ".gone");
    try {
      Deno.renameSync(`${this.dir}/${digestHex(chainId)}`, dest);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    removeTree(dest);
  }

  /** Every extracted layer's chain ID. */
  list(): Digest[] {
    const out: Digest[] = [];
    for (const entry of Deno.readDirSync(this.dir)) {
      if (/^[a-f0-9]{64}$/.test(entry.name)) out.push(`sha256:${entry.name}`);
    }
    return out;
  }
}

function removeTree(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
