/**
 * A container's changes as an OCI layer: the tar of an overlayfs upper dir,
 * with overlayfs's whiteouts turned into the archive's (what `docker commit`
 * and each RUN step of a build store).
 *
 * @module
 */
import { lgetxattr } from "../../ffi/fs.ts";
import { InvalidError } from "../errors.ts";
import { packWith } from "./pack_dir.ts";

/** Options for {@linkcode packUpper}. */
export interface PackUpperOptions {
  /**
   * Paths left out with everything below them, as archive names
   * (`etc/hosts`): files the engine itself puts in the upper dir, such as
   * mount points, that are not the container's changes. @default []
   */
  exclude?: readonly string[];
}

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";

/**
 * Streams an uncompressed OCI layer tar of `upperDir`, as Docker's overlay2
 * driver writes it: entries sorted by name, each directory before its
 * contents; a whiteout (0/0 character device) becomes an empty `.wh.NAME`
 * file (mode 0600, its owner and time kept); an opaque directory
 * (`trusted.overlay.opaque=y`) is followed by a `.wh..wh..opq` file inside
 * it; `trusted.overlay.*` xattrs are left out, other xattrs kept; inodes
 * linked more than once become tar hardlinks.
 * @param upperDir the upper dir of an overlay mount that is unmounted or
 *   not being written to (a paused container)
 * @throws {Deno.errors.NotFound} through the stream, when `upperDir` is missing
 * @throws {InvalidError} through the stream, for a directory renamed with
 *   overlayfs's `redirect_dir` or a `metacopy` file, which hold no data
 *   berth could pack (berth mounts without those features)
 */
export function packUpper(
  upperDir: string,
  options: PackUpperOptions = {},
): ReadableStream<Uint8Array> {
  const exclude = new Set(options.exclude ?? []);
  return packWith(upperDir, { name: "" }, {
    skip: (name) => exclude.has(name),
    replace(path, info, header) {
      if (info.isCharDevice && info.rdev === 0) {
        return [{
          ...header,
          name: withBase(header.name, WHITEOUT_PREFIX + baseOf(header.name)),
          type: "0",
          mode: 0o600,
          size: 0,
          devmajor: 0,
          devminor: 0,
          xattrs: [],
        }];
      }
      if (info.isFile && overlayXattr(path, "metacopy") !== undefined) {
        throw new InvalidError(`Cannot pack "${path}": an overlayfs metacopy file has no data`);
      }
      return undefined;
    },
    within(path, header) {
      if (overlayXattr(path, "redirect") !== undefined) {
        throw new InvalidError(`Cannot pack "${path}": a redirected overlayfs directory`);
      }
      if (!isOpaque(overlayXattr(path, "opaque"))) return [];
      return [{
        ...header,
        name: `${header.name}/${OPAQUE_MARKER}`,
        type: "0",
        mode: header.mode & 0o777,
        size: 0,
        xattrs: [],
      }];
    },
  });
}

function overlayXattr(path: string, key: string): Uint8Array | undefined {
  try {
    return lgetxattr(path, `trusted.overlay.${key}`);
  } catch {
    return undefined; // no xattrs on this file system
  }
}

function isOpaque(value: Uint8Array | undefined): boolean {
  return value !== undefined && value.byteLength === 1 && value[0] === 0x79; // "y"
}

function baseOf(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

function withBase(name: string, base: string): string {
  const slash = name.lastIndexOf("/");
  return slash < 0 ? base : `${name.slice(0, slash + 1)}${base}`;
}
