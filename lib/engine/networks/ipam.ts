/**
 * Address leases on a network record: the lowest free address of the
 * ip-range (or subnet), never the network, broadcast or gateway address, or
 * a wanted `--ip` checked as Docker checks it. Pure functions on a record;
 * the store runs them under its lock and writes the record back.
 *
 * @module
 */
import { ConflictError, InvalidError } from "../../errors.ts";
import { type Cidr, contains, formatIPv4, lastOf, parseCidr, parseIPv4 } from "./ipv4.ts";
import { type Endpoint, macFor, type NetworkRecord, randomId } from "./record.ts";

/** What a container asks of a network when it joins. */
export interface AllocateOptions {
  /** The container's name, shown in inspect's `Containers`. */
  name?: string;
  /** `--ip`: this address or a failure. */
  ip?: string;
  /** `--mac-address`; Docker's `02:42:<address>` otherwise. */
  mac?: string;
}

/** A pool of one `IPAM.Config` entry, as numbers. */
interface Pool {
  subnet: Cidr;
  range: Cidr;
  gateway: number;
}

function poolsOf(record: NetworkRecord): Pool[] {
  return record.IPAM.Config.map((c) => {
    const subnet = parseCidr(c.Subnet);
    return {
      subnet,
      range: c.IPRange === undefined ? subnet : parseCidr(c.IPRange, "ip-range"),
      gateway: parseIPv4(c.Gateway) ?? subnet.base + 1,
    };
  });
}

/** The addresses leased on a record, as numbers. */
function leased(record: NetworkRecord): Set<number> {
  const used = new Set<number>();
  for (const ep of Object.values(record.Containers)) {
    const ip = parseIPv4(ep.IPv4Address.split("/")[0] ?? "");
    if (ip !== undefined) used.add(ip);
  }
  return used;
}

/** Whether an address may be handed out at all: not the subnet's first or last, nor the gateway. */
function reserved(pool: Pool, ip: number): boolean {
  return ip === pool.subnet.base || ip === lastOf(pool.subnet) || ip === pool.gateway;
}

function lowestFree(pool: Pool, used: ReadonlySet<number>): number | undefined {
  for (let ip = pool.range.base; ip <= lastOf(pool.range); ip++) {
    if (!reserved(pool, ip) && !used.has(ip)) return ip;
  }
  return undefined;
}

function checkWanted(record: NetworkRecord, text: string, pools: Pool[]): [number, Pool] {
  if (record.Name === "bridge" || !record.Berth.subnetGiven) {
    throw new InvalidError(
      record.Name === "bridge" || pools.length === 0
        ? "user specified IP address is supported on user defined networks only"
        : "user specified IP address is supported only when connecting to networks with user configured subnets",
    );
  }
  const ip = parseIPv4(text);
  if (ip === undefined) throw new InvalidError(`invalid IPv4 address: ${text}`);
  const pool = pools.find((p) => contains(p.subnet, ip));
  if (pool === undefined) {
    throw new InvalidError(
      `Invalid address ${text}: It does not belong to any of this network's subnets`,
    );
  }
  return [ip, pool];
}

/**
 * Leases an address on `record` for a container (in place). Joining again
 * returns the container's endpoint as it is. On host and none the endpoint has
 * no address.
 * @throws {InvalidError} an `--ip` Docker refuses: default bridge, no user subnet, outside it
 * @throws {ConflictError} `Address already in use` (also the gateway), or the pools are full
 */
export function allocateIn(
  record: NetworkRecord,
  containerId: string,
  options: AllocateOptions = {},
): Endpoint {
  const existing = record.Containers[containerId];
  if (existing !== undefined) return existing;
  const pools = poolsOf(record);
  if (options.ip !== undefined && options.ip !== "" && pools.length === 0) {
    throw new InvalidError("user specified IP address is supported on user defined networks only");
  }
  const used = leased(record);
  let ip: number | undefined;
  let pool: Pool | undefined;
  if (options.ip !== undefined && options.ip !== "") {
    [ip, pool] = checkWanted(record, options.ip, pools);
    if (used.has(ip) || reserved(pool, ip)) throw new ConflictError("Address already in use");
  } else {
    for (const p of pools) {
      ip = lowestFree(p, used);
      pool = p;
      if (ip !== undefined) break;
    }
    if (pools.length > 0 && ip === undefined) {
      throw new ConflictError(
        `no available IPv4 addresses on this network's address pools: ${record.Name} (${record.Id})`,
      );
    }
  }
  const endpoint: Endpoint = {
    Name: options.name ?? "",
    EndpointID: randomId(),
    MacAddress: options.mac ?? (ip === undefined ? "" : macFor(ip)),
    IPv4Address: ip === undefined || pool === undefined
      ? ""
      : `${formatIPv4(ip)}/${pool.subnet.prefix}`,
    IPv6Address: "",
  };
  record.Containers[containerId] = endpoint;
  return endpoint;
}

/**
 * Ends a container's lease on `record` (in place).
 * @returns whether it had one
 */
export function releaseIn(record: NetworkRecord, containerId: string): boolean {
  if (!(containerId in record.Containers)) return false;
  delete record.Containers[containerId];
  return true;
}
