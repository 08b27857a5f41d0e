/**
 * Networks as objects: Docker's network records (the predefined `bridge`,
 * `host` and `none`, and user-defined bridge networks) with their IPAM
 * leases, kept under `<root>/networks/`. This module makes no links: it
 * decides subnets and addresses; the links follow from the records.
 *
 * @example
 * ```ts
 * import { NetworkStore } from "./lib/engine/networks/mod.ts";
 * const networks = new NetworkStore("/var/lib/berth", "/var/lib/berth/tmp");
 * const net = await networks.create("web", { subnets: ["10.90.0.0/24"] });
 * const ep = await networks.allocate(net.Id, "0123abcd...", { name: "app" });
 * console.log(ep.IPv4Address); // 10.90.0.2/24
 * ```
 * @module
 */
export { find as findNetwork, NetworkStore, type NetworkStoreOptions } from "./store.ts";
export { ipamConfigs, type NetworkCreateOptions, subnetPool } from "./create.ts";
export { allocateIn, type AllocateOptions, releaseIn } from "./ipam.ts";
export {
  BRIDGE_NAME_OPTION,
  DEFAULT_BRIDGE,
  type Endpoint,
  inspectView,
  type IpamConfig,
  isPredefined,
  type NetworkInspect,
  type NetworkRecord,
  PREDEFINED,
} from "./record.ts";
export { type Cidr, contains, formatCidr, formatIPv4, parseCidr, parseIPv4 } from "./ipv4.ts";
