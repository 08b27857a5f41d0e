/**
 * `network create`'s checks and choices, as pure functions of the request,
 * the networks that exist and the host's routes: Docker's messages for bad
 * IPAM input, and a free subnet from berth's pool when none is given.
 *
 * @module
 */
import { ConflictError, InvalidError, NotFoundError } from "../../errors.ts";
import {
  type Cidr,
  contains,
  formatCidr,
  formatIPv4,
  lastOf,
  overlaps,
  parseCidr,
  parseIPv4,
} from "./ipv4.ts";
import {
  BRIDGE_NAME_OPTION,
  createdNow,
  DEFAULT_BRIDGE,
  type IpamConfig,
  isPredefined,
  type NetworkRecord,
  randomId,
} from "./record.ts";

/** What `network create` may ask for. */
export interface NetworkCreateOptions {
  /** @default "bridge" */
  driver?: string;
  /** @default "default" */
  ipamDriver?: string;
  subnets?: readonly string[];
  gateways?: readonly string[];
  ipRanges?: readonly string[];
  internal?: boolean;
  attachable?: boolean;
  ipv6?: boolean;
  labels?: Record<string, string>;
  /** `-o`: the driver's options (`com.docker.network.bridge.name`, ...). */
  options?: Record<string, string>;
}

/**
 * The blocks berth picks subnets from, in order: /16s of 10.0.0.0/8 from
 * 10.89 (10.88 is podman's default, 172.17 Docker's), then Docker's /20s of
 * 192.168.0.0/16.
 */
export function* subnetPool(): Generator<Cidr> {
  for (let b = 89; b <= 254; b++) yield { base: ((10 << 24) | (b << 16)) >>> 0, prefix: 16 };
  for (let c = 0; c < 256; c += 16) {
    yield { base: ((192 << 24) | (168 << 16) | (c << 8)) >>> 0, prefix: 20 };
  }
}

/** The subnets of existing networks. */
export function subnetsOf(records: readonly NetworkRecord[]): Cidr[] {
  return records.flatMap((r) => r.IPAM.Config.map((c) => parseCidr(c.Subnet)));
}

/**
 * The first block of the pool that overlaps no taken block.
 * @throws {ConflictError} Docker's message when the pool is used up
 */
export function freeSubnet(taken: readonly Cidr[]): Cidr {
  for (const candidate of subnetPool()) {
    if (!taken.some((t) => overlaps(t, candidate))) return candidate;
  }
  throw new ConflictError(
    "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
  );
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IFNAME_RE = /^[a-zA-Z0-9_.-]{1,15}$/;

function checkName(name: string, existing: readonly NetworkRecord[]): void {
  if (isPredefined(name)) {
    throw new ConflictError(`operation is not permitted on predefined ${name} network`);
  }
  if (!NAME_RE.test(name)) {
    throw new InvalidError(
      `invalid network name "${name}": only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`,
    );
  }
  if (existing.some((r) => r.Name === name)) {
    throw new ConflictError(`network with name ${name} already exists`);
  }
}

function checkDrivers(options: NetworkCreateOptions): void {
  const driver = options.driver ?? "bridge";
  if (driver === "host" || driver === "null") {
    throw new ConflictError(`only one instance of "${driver}" network is allowed`);
  }
  if (driver !== "bridge") throw new NotFoundError(`plugin "${driver}" not found`);
  const ipam = options.ipamDriver ?? "default";
  if (ipam !== "default") throw new NotFoundError(`plugin "${ipam}" not found`);
  if (options.ipv6) throw new InvalidError("IPv6 networks are not supported by berth yet");
}

/**
 * The `IPAM.Config` entries of the request, checked as docker's CLI and
 * daemon check them; an empty list when no subnet is given.
 * @throws {InvalidError} the first problem, in Docker's words
 */
export function ipamConfigs(options: NetworkCreateOptions): IpamConfig[] {
  const subnetTexts = options.subnets ?? [];
  const ranges = options.ipRanges ?? [];
  const gateways = options.gateways ?? [];
  if (subnetTexts.length < ranges.length || subnetTexts.length < gateways.length) {
    throw new InvalidError("every ip-range or gateway must have a corresponding subnet");
  }
  const subnets = subnetTexts.map((s) => parseCidr(s));
  subnets.forEach((s, i) => {
    if (subnets.slice(0, i).some((t) => overlaps(s, t))) {
      throw new InvalidError("multiple overlapping subnet configuration is not allowed");
    }
  });
  const rangeOf = new Map<number, [string, Cidr]>();
  for (const text of ranges) {
    const range = parseCidr(text, "ip-range");
    const i = subnets.findIndex((s) => contains(s, range.base));
    if (i < 0) throw new InvalidError(`no matching subnet for range ${text}`);
    if (range.prefix < subnets[i]!.prefix) {
      throw new InvalidError(
        `invalid ip-range ${text}: CIDR block is bigger than its parent subnet ${subnetTexts[i]}`,
      );
    }
    const prev = rangeOf.get(i);
    if (prev !== undefined) {
      throw new InvalidError(
        `cannot configure multiple ranges (${text}, ${prev[0]}) on the same subnet (${
          subnetTexts[i]
        })`,
      );
    }
    rangeOf.set(i, [text, range]);
  }
  const gatewayOf = new Map<number, number>();
  for (const text of gateways) {
    const ip = parseIPv4(text);
    const i = ip === undefined ? -1 : subnets.findIndex((s) => contains(s, ip));
    if (ip === undefined || i < 0) throw new InvalidError(`no matching subnet for gateway ${text}`);
    const prev = gatewayOf.get(i);
    if (prev !== undefined) {
      throw new InvalidError(
        `cannot configure multiple gateways (${text}, ${formatIPv4(prev)}) for the same subnet (${
          subnetTexts[i]
        })`,
      );
    }
    const s = subnets[i]!;
    if (ip === s.base || ip === lastOf(s)) {
      throw new InvalidError(
        `invalid gateway ${text}: it is the network or broadcast address of ${formatCidr(s)}`,
      );
    }
    gatewayOf.set(i, ip);
  }
  return subnets.map((s, i) => {
    if (s.prefix > 30) {
      throw new InvalidError(
        `invalid subnet ${formatCidr(s)}: too small for a bridge network (a /30 at most)`,
      );
    }
    const range = rangeOf.get(i);
    return configFor(s, range?.[1], gatewayOf.get(i));
  });
}

/** A config entry; the gateway defaults to the first host address of the range (or subnet). */
function configFor(subnet: Cidr, range?: Cidr, gateway?: number): IpamConfig {
  const first = range === undefined || range.base === subnet.base ? subnet.base + 1 : range.base;
  return {
    Subnet: formatCidr(subnet),
    ...(range === undefined ? {} : { IPRange: formatCidr(range) }),
    Gateway: formatIPv4(gateway ?? first),
  };
}

function checkBridgeName(bridge: string, id: string, existing: readonly NetworkRecord[]): void {
  if (!IFNAME_RE.test(bridge)) {
    throw new InvalidError(
      `invalid bridge name "${bridge}": 1 to 15 characters of [a-zA-Z0-9_.-]`,
    );
  }
  const other = existing.find((r) => r.Berth.bridge === bridge);
  if (other !== undefined) {
    throw new ConflictError(
      `cannot create network ${id} (${bridge}): conflicts with network ${other.Id} (${bridge}): networks have same bridge name`,
    );
  }
}

/**
 * The record of a new user-defined bridge network.
 * @param existing every network there is (predefined ones included)
 * @param routes the host's routes: an automatic subnet avoids them; a given one may overlap them,
 *   as in Docker
 * @throws {InvalidError} bad input, in Docker's words
 * @throws {ConflictError} the name exists or is predefined, the subnet overlaps another network's
 * @throws {NotFoundError} a driver other than bridge
 */
export function planNetwork(
  name: string,
  options: NetworkCreateOptions,
  existing: readonly NetworkRecord[],
  routes: readonly Cidr[],
): NetworkRecord {
  checkName(name, existing);
  checkDrivers(options);
  const taken = subnetsOf(existing);
  let config = ipamConfigs(options);
  if (config.length > 0) {
    const clash = config.some((c) => taken.some((t) => overlaps(t, parseCidr(c.Subnet))));
    if (clash) throw new ConflictError("Pool overlaps with other one on this address space");
  } else {
    config = [configFor(freeSubnet([...taken, ...routes]))];
  }
  const id = randomId();
  const driverOptions = { ...(options.options ?? {}) };
  const mtu = driverOptions["com.docker.network.driver.mtu"];
  if (mtu !== undefined && !/^\d+$/.test(mtu)) {
    throw new InvalidError(`invalid MTU "${mtu}": not a number`);
  }
  const bridge = driverOptions[BRIDGE_NAME_OPTION] ?? `br-${id.slice(0, 12)}`;
  checkBridgeName(bridge, id, existing);
  return {
    Name: name,
    Id: id,
    Created: createdNow(),
    Scope: "local",
    Driver: "bridge",
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: {}, Config: config },
    Internal: options.internal ?? false,
    Attachable: options.attachable ?? false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: {},
    Options: driverOptions,
    Labels: { ...(options.labels ?? {}) },
    Berth: { subnetGiven: (options.subnets ?? []).length > 0, bridge },
  };
}

/**
 * The records of Docker's predefined networks that are missing: `bridge` (a
 * /16 clear of other networks and the host's routes), `host` and `none`.
 */
export function planPredefined(
  existing: readonly NetworkRecord[],
  routes: readonly Cidr[],
): NetworkRecord[] {
  const out: NetworkRecord[] = [];
  const has = (n: string) => existing.some((r) => r.Name === n);
  const base = (name: string, driver: string): NetworkRecord => ({
    Name: name,
    Id: randomId(),
    Created: createdNow(),
    Scope: "local",
    Driver: driver,
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: {},
    Options: {},
    Labels: {},
    Berth: { subnetGiven: false, bridge: "" },
  });
  if (!has("bridge")) {
    const bridge = base("bridge", "bridge");
    bridge.IPAM.Config = [configFor(freeSubnet([...subnetsOf(existing), ...routes]))];
    bridge.Options = {
      "com.docker.network.bridge.default_bridge": "true",
      "com.docker.network.bridge.enable_icc": "true",
      "com.docker.network.bridge.enable_ip_masquerade": "true",
      "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
      [BRIDGE_NAME_OPTION]: DEFAULT_BRIDGE,
      "com.docker.network.driver.mtu": "1500",
    };
    bridge.Berth.bridge = DEFAULT_BRIDGE;
    out.push(bridge);
  }
  if (!has("host")) out.push(base("host", "host"));
  if (!has("none")) out.push(base("none", "null"));
  return out;
}
