/**
 * Extended attributes from PAX headers, kept as raw bytes.
 *
 * @module
 */
// @ts-types="@types/tar-stream"
import type tar from "tar-stream";

/** Where the raw xattrs of an entry's PAX headers are kept on `header.pax`. */
const XATTRS = Symbol("xattrs");

type Xattrs = Map<string, Uint8Array>;
type Pax = Record<string, string> & { [XATTRS]?: Xattrs };

/** A tar-stream header with the PAX records its types leave out. */
export type TarHeader = tar.Headers & { pax?: Record<string, string> | null };

/** The tar-stream 3.2 internals that {@linkcode keepPaxXattrs} wraps. */
interface ExtractInternals {
  _header: { type: string } | null;
  _pax: Pax | null;
  _paxGlobal: Pax | null;
  _decodeLongHeader(buf: Uint8Array): void;
}

const decoder = new TextDecoder();

/**
 * Makes `extract` keep the xattrs of each PAX header as bytes.
 *
 * tar-stream decodes PAX values as UTF-8 text, which corrupts binary values
 * such as `security.capability`; this wraps its (private, version-pinned)
 * long-header decoder to parse the same records again without decoding.
 * `apply_layer_test.ts` checks a binary capability round-trips.
 */
export function keepPaxXattrs(extract: tar.Extract): void {
  const internals = extract as unknown as ExtractInternals;
  const decode = internals._decodeLongHeader;
  internals._decodeLongHeader = function (this: ExtractInternals, buf: Uint8Array) {
    decode.call(this, buf);
    const type = this._header?.type;
    if (type === "pax-header" && this._pax !== null) {
      const global = this._paxGlobal?.[XATTRS];
      const local = parseXattrs(buf);
      this._pax[XATTRS] = global === undefined ? local : new Map([...global, ...local]);
    } else if (type === "pax-global-header" && this._paxGlobal !== null) {
      this._paxGlobal[XATTRS] = parseXattrs(buf);
    }
  };
}

/** The xattrs kept by {@linkcode keepPaxXattrs} for an entry, if any. */
export function paxXattrs(header: TarHeader): Xattrs | undefined {
  const pax = header.pax as Pax | undefined | null;
  const xattrs = pax?.[XATTRS];
  return xattrs === undefined || xattrs.size === 0 ? undefined : xattrs;
}

/**
 * Parses `SCHILY.xattr.NAME=bytes` (GNU tar, Go, Docker) and
 * `LIBARCHIVE.xattr.URLNAME=base64` (bsdtar) records; each record is
 * `"<length> <key>=<value>\n"` with the length counting the whole record.
 */
function parseXattrs(buf: Uint8Array): Xattrs {
  const out: Xattrs = new Map();
  let offset = 0;
  while (offset < buf.byteLength) {
    const space = buf.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(decoder.decode(buf.subarray(offset, space)));
    if (!Number.isInteger(length) || length <= 0 || offset + length > buf.byteLength) break;
    const record = buf.subarray(space + 1, offset + length - 1);
    offset += length;
    const eq = record.indexOf(0x3d);
    if (eq < 0) continue;
    const key = decoder.decode(record.subarray(0, eq));
    const value = record.subarray(eq + 1);
    if (key.startsWith("SCHILY.xattr.")) {
      out.set(key.slice("SCHILY.xattr.".length), value.slice());
    } else if (key.startsWith("LIBARCHIVE.xattr.")) {
      const name = decodeURIComponent(key.slice("LIBARCHIVE.xattr.".length));
      out.set(name, Uint8Array.from(atob(decoder.decode(value)), (c) => c.charCodeAt(0)));
    }
  }
  return out;
}
