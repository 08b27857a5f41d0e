/**
 * A container's `NetworkSettings` as `docker inspect` shows it (kept apart
 * from container_network.ts so that the read paths load no netlink code).
 *
 * @module
 */

/** `NetworkSettings.Networks[NAME]`, as Docker shows it. */
export interface EndpointSettings {
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
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

/** The network a record lists in `NetworkSettings.Networks` before its first start. */
export function initialSettings(mode: string, network?: { Id: string }): NetworkSettingsView {
  const key = mode.startsWith("container:") ? undefined : mode;
  const networks: Record<string, EndpointSettings> = {};
  if (key !== undefined) {
    networks[key] = {
      NetworkID: network?.Id ?? "",
      EndpointID: "",
      Gateway: "",
      IPAddress: "",
      IPPrefixLen: 0,
      MacAddress: "",
    };
  }
  return {
    SandboxKey: "",
    Gateway: "",
    IPAddress: "",
    IPPrefixLen: 0,
    MacAddress: "",
    Networks: networks,
  };
}
