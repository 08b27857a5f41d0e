/**
 * A network as `docker network inspect` shows it, and what berth keeps
 * beside it in `<root>/networks/<id>.json`.
 *
 * @module
 */

/** One `IPAM.Config` entry (IPv4 only). */
export interface IpamConfig {
  Subnet: string;
  /** Omitted, as Docker does, when not set. */
  IPRange?: string;
  Gateway: string;
}

/** A container's endpoint on a network: its lease, as `Containers` in inspect shows it. */
export interface Endpoint {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  /** `10.89.0.2/16`, or `""` on host and none. */
  IPv4Address: string;
  IPv6Address: string;
}

/** `docker network inspect`'s object, field for field. */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: "local";
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  /** container ID -> endpoint: the IPAM leases of this network. */
  Containers: Record<string, Endpoint>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** What berth keeps that inspect does not show. */
export interface NetworkPrivate {
  /** The subnet came from `--subnet` (only then may a container ask for `--ip`, as in Docker). */
  subnetGiven: boolean;
  /** The bridge device this network's links hang off (empty for host and none). */
  bridge: string;
}

/** The stored record: the inspect view plus berth's own fields. */
export interface NetworkRecord extends NetworkInspect {
  Berth: NetworkPrivate;
}

/** The names Docker predefines, which cannot be created, removed or pruned. */
export const PREDEFINED = ["bridge", "host", "none"] as const;

/** The option that names a bridge network's device. */
export const BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";

/** The default bridge's device (Docker's is `docker0`). */
export const DEFAULT_BRIDGE = "berth0";

/** Whether a name is one of Docker's predefined networks. */
export function isPredefined(name: string): boolean {
  return (PREDEFINED as readonly string[]).includes(name);
}

/** The inspect view of a record (berth's own fields left out, maps copied). */
export function inspectView(record: NetworkRecord): NetworkInspect {
  const { Berth: _, ...view } = record;
  return structuredClone(view);
}

/** A random 64-hex ID, as Docker's network and endpoint IDs. */
export function randomId(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Docker's default MAC for an address: `02:42` and the four octets. */
export function macFor(address: number): string {
  return [2, 0x42, address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255]
    .map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Time as Docker's RFC 3339 with fractional seconds. */
export function createdNow(): string {
  return new Date().toISOString();
}
