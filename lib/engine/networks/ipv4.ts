/**
 * IPv4 addresses and CIDR blocks as unsigned 32-bit numbers: parsing with
 * Docker's messages, containment and overlap, and the host's routes as
 * `/proc/net/route` lists them (what a new subnet must not collide with).
 *
 * @module
 */
import { InvalidError } from "../../errors.ts";

/** A CIDR block: its first address and prefix length. */
export interface Cidr {
  /** The network address (host bits zero), as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** A dotted-quad address as a number, or undefined when it is not one (Go's `net.ParseIP` for IPv4). */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** A number as a dotted quad. */
export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** The mask of a prefix length (`/16` -> 0xffff0000), unsigned. */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The number of addresses a block holds. */
export function sizeOf(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** The last address of a block (its broadcast address). */
export function lastOf(cidr: Cidr): number {
  return cidr.base + sizeOf(cidr) - 1;
}

/**
 * Parses `a.b.c.d/n` as Docker's API checks a subnet or ip-range: the address
 * must be the block's first one (`10.1.2.3/16` is refused with the block it
 * should be).
 * @param what `subnet` or `ip-range`, for the message
 * @throws {InvalidError} `invalid subnet X: invalid CIDR block notation`, `... it should be Y`,
 *   and for an IPv6 block that IPv6 is not supported
 */
export function parseCidr(text: string, what = "subnet"): Cidr {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? undefined : text.slice(0, slash);
  const bits = slash < 0 ? "" : text.slice(slash + 1);
  if (addr !== undefined && addr.includes(":") && /^\d{1,3}$/.test(bits)) {
    throw new InvalidError(`invalid ${what} ${text}: IPv6 is not supported`);
  }
  const ip = addr === undefined ? undefined : parseIPv4(addr);
  if (ip === undefined || !/^(3[0-2]|[12]?\d)$/.test(bits)) {
    throw new InvalidError(`invalid ${what} ${text}: invalid CIDR block notation`);
  }
  const prefix = Number(bits);
  const base = (ip & maskOf(prefix)) >>> 0;
  if (base !== ip) {
    throw new InvalidError(`invalid ${what} ${text}: it should be ${formatCidr({ base, prefix })}`);
  }
  return { base, prefix };
}

/** `a.b.c.d/n` */
export function formatCidr(cidr: Cidr): string {
  return `${formatIPv4(cidr.base)}/${cidr.prefix}`;
}

/** Whether `addr` lies in `cidr`. */
export function contains(cidr: Cidr, addr: number): boolean {
  return addr >= cidr.base && addr <= lastOf(cidr);
}

/** Whether two blocks share any address (one holds the other, as CIDR blocks never partly overlap). */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= lastOf(b) && b.base <= lastOf(a);
}

/**
 * The destinations of the routes in `/proc/net/route` text (little-endian
 * hex), leaving out default routes (`/0`): every block the host already
 * reaches through some link.
 */
export function parseRoutes(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const dest = fields[1];
    const mask = fields[7];
    if (dest === undefined || mask === undefined || !/^[0-9A-Fa-f]{16}$/.test(dest + mask)) {
      continue;
    }
    const m = swap32(Number.parseInt(mask, 16));
    // A mask is a run of ones; anything else is not a prefix we can reason about.
    const prefix = 32 - Math.log2(((~m) >>> 0) + 1);
    if (!Number.isInteger(prefix) || prefix === 0) continue;
    out.push({ base: (swap32(Number.parseInt(dest, 16)) & maskOf(prefix)) >>> 0, prefix });
  }
  return out;
}

/** `/proc/net/route` of this process's network namespace, parsed (none when unreadable). */
export function hostRoutes(path = "/proc/net/route"): Cidr[] {
  try {
    return parseRoutes(Deno.readTextFileSync(path));
  } catch {
    return [];
  }
}

/** The kernel prints addresses in host (little-endian) byte order. */
function swap32(n: number): number {
  return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) |
    (n >>> 24)) >>> 0;
}
