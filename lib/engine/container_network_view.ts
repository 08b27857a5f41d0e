/**
 * A container's `NetworkSettings` as `docker inspect` shows it (kept apart
 * from container_network.ts so that the read paths load no netlink code).
 *
 * @module
 */

/** `NetworkSettings.Networks[NAME]`, as Docker shows it (older records lack the optional fields). */
export interface EndpointSettings {
  /** `--ip` asked on this network (`run --ip`, `network connect --ip`), or null. */
  IPAMConfig?: { IPv4Address?: string } | null;
  /** `--network-alias`, `network connect --alias`, or null. */
  Aliases?: string[] | null;
  MacAddress: string;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  /** What the others on a user-defined network resolve it by: name, aliases, short ID. */
  DNSNames?: string[] | null;
}

/** `NetworkSettings`, the parts berth fills. */
export interface NetworkSettingsView {
  SandboxKey: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

/** A network's entry before the container is on it: what was asked of it, no address. */
export function emptyEndpoint(
  networkId: string,
  request: { ip?: string; aliases?: readonly string[] } = {},
): EndpointSettings {
  return {
    IPAMConfig: request.ip !== undefined && request.ip !== "" ? { IPv4Address: request.ip } : null,
    Aliases: request.aliases !== undefined && request.aliases.length > 0
      ? [...request.aliases]
      : null,
    MacAddress: "",
    NetworkID: networkId,
    EndpointID: "",
    Gateway: "",
    IPAddress: "",
    IPPrefixLen: 0,
    DNSNames: null,
  };
}

/** The network a record lists in `NetworkSettings.Networks` before its first start. */
export function initialSettings(
  mode: string,
  network?: { Id: string },
  request: { ip?: string; aliases?: readonly string[] } = {},
): NetworkSettingsView {
  const key = mode.startsWith("container:") ? undefined : mode;
  const networks: Record<string, EndpointSettings> = {};
  if (key !== undefined) networks[key] = emptyEndpoint(network?.Id ?? "", request);
  return {
    SandboxKey: "",
    Gateway: "",
    IPAddress: "",
    IPPrefixLen: 0,
    MacAddress: "",
    Networks: networks,
  };
}
