/**
 * A container on a network: `--network bridge|host|none|NAME|container:NAME`
 * and its `--ip`, `--mac-address`, `--add-host`, `--dns`, `--dns-search`.
 *
 * At create the request is checked (the network exists, an `--ip` Docker
 * would take) and the spec says which network namespace init gets; at each
 * start, once init waits in its namespaces and before it runs the command,
 * a bridge network gets its link: the bridge (made on first use, with the
 * gateway address, up), a veth pair whose peer is made straight in the
 * container's namespace as `eth0`, the lease's address and MAC, lo up and
 * the default route via the gateway (not on an `--internal` network). When
 * the container ends, its host-side veth is deleted (the peer dies with the
 * namespace) and its lease ends.
 *
 * @module
 */
import { closeFd } from "../../ffi/fd.ts";
import { Rtnetlink } from "../../ffi/netlink.ts";
import { openNs } from "../../ffi/ns.ts";
import { EngineError, InvalidError, NotFoundError } from "../errors.ts";
import type { Spec } from "../runtime/mod.ts";
import type { ContainerRecord, ContainerStore } from "./container_record.ts";
import {
  type EndpointSettings,
  initialSettings,
  type NetworkSettingsView,
} from "./container_network_view.ts";
import {
  allocateIn,
  DEFAULT_BRIDGE,
  type Endpoint,
  type NetworkRecord,
  NetworkStore,
  parseIPv4,
} from "./networks/mod.ts";
import { applyNat } from "./networks/nat.ts";
import { withLock } from "../store/lock.ts";
import {
  choosePorts,
  natForwards,
  type PortFields,
  portIsFree,
  type PortMap,
  portsTakenBy,
  publishesPorts,
  startBindings,
} from "./container_ports.ts";

/** What `run`/`create` ask of the network. */
export interface NetworkRequest {
  /** `--network`; {@linkcode defaultNetworkMode} when not given. */
  network?: string;
  ip?: string;
  mac?: string;
  addHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
}

export { type EndpointSettings, initialSettings, type NetworkSettingsView };

/**
 * The network of a container that names none: `bridge`, as Docker's, or
 * what `BERTH_DEFAULT_NETWORK` says (`none` for hosts where berth must not
 * make a bridge, as dockerd's `--bridge=none`; or a network's name).
 */
export function defaultNetworkMode(): string {
  return Deno.env.get("BERTH_DEFAULT_NETWORK") || "bridge";
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** The container's host-side veth: fixed per container, so a leftover is found again. */
export function hostVethName(id: string): string {
  return `vb${id.slice(0, 12)}`;
}

/** The network store of a container store's root. */
export function networksOf(containers: ContainerStore): NetworkStore {
  return new NetworkStore(containers.root, containers.tmpDir);
}

/** The network a bridge-mode container is on, or undefined for host, none and container:X. */
export function bridgeNetworkName(mode: string): string | undefined {
  if (mode === "host" || mode === "none" || mode.startsWith("container:")) return undefined;
  return mode === "default" ? "bridge" : mode;
}

/** What create decided, for the record and the files. */
export interface PlannedNetwork {
  mode: string;
  /** The network a bridge-mode container joins. */
  network?: NetworkRecord;
  /** `--add-host` lines for /etc/hosts, host-gateway resolved. */
  extraHosts: string[];
}

/**
 * Checks a request at create as Docker does.
 * @throws {NotFoundError} `network X not found`, `No such container: X`
 * @throws {InvalidError} {ConflictError} a bad `--ip`, `--mac-address` or `--add-host`
 */
export async function planNetwork(
  containers: ContainerStore,
  id: string,
  request: NetworkRequest,
): Promise<PlannedNetwork> {
  let mode = request.network ?? "";
  if (mode === "" || mode === "default") mode = defaultNetworkMode();
  if (request.mac !== undefined && !MAC_RE.test(request.mac)) {
    throw new InvalidError(`${request.mac} is not a valid mac address`);
  }
  let network: NetworkRecord | undefined;
  const name = bridgeNetworkName(mode);
  if (mode.startsWith("container:")) {
    const ref = mode.slice("container:".length);
    const target = containers.list().find((c) =>
      c.Id === ref || c.Name === `/${ref}` || (ref.length > 0 && c.Id.startsWith(ref))
    );
    if (target === undefined) throw new NotFoundError(`No such container: ${ref}`);
    mode = `container:${target.Id}`;
  } else if (name !== undefined) {
    try {
      network = await networksOf(containers).get(name);
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError(`network ${name} not found`);
      throw error;
    }
    if (network.Driver !== "bridge") {
      throw new InvalidError(`network ${name} is not a bridge network`);
    }
    // A dry run on a copy: Docker's checks of --ip (default bridge, outside, in use).
    allocateIn(structuredClone(network), id, {
      ...(request.ip !== undefined ? { ip: request.ip } : {}),
      ...(request.mac !== undefined ? { mac: request.mac } : {}),
    });
    mode = network.Name;
  }
  if (network === undefined && request.ip !== undefined && request.ip !== "") {
    throw new InvalidError("user specified IP address is supported on user defined networks only");
  }
  const gateway = network?.IPAM.Config[0]?.Gateway;
  const extraHosts = (request.addHosts ?? []).map((entry) => {
    const at = entry.indexOf(":");
    const host = at < 0 ? "" : entry.slice(0, at);
    let ip = at < 0 ? "" : entry.slice(at + 1);
    if (ip === "host-gateway") {
      if (gateway === undefined) {
        throw new InvalidError(`unable to derive the IP value for host-gateway on network ${mode}`);
      }
      ip = gateway;
    }
    if (host === "" || (parseIPv4(ip) === undefined && !/^[0-9a-fA-F:]+$/.test(ip))) {
      throw new InvalidError(`invalid argument "${entry}" for "--add-host" flag`);
    }
    return `${ip}\t${host}`;
  });
  return { mode, ...(network !== undefined ? { network } : {}), extraHosts };
}

/** Puts the network mode into a new spec: host shares the host's namespace. */
export function applyNetworkMode(spec: Spec, mode: string): void {
  if (mode !== "host" || spec.linux?.namespaces === undefined) return;
  spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== "network");
}

const HOSTS_HEAD = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
  "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/** /etc/hosts as Docker writes it: localhost lines, `--add-host`, then the container's address. */
export function hostsFile(extraHosts: readonly string[], hostname: string, ip?: string): string {
  let text = HOSTS_HEAD;
  for (const line of extraHosts) text += `${line}\n`;
  if (ip !== undefined && ip !== "") text += `${ip}\t${hostname}\n`;
  return text;
}

/**
 * /etc/resolv.conf as Docker writes it: `--dns` and `--dns-search` when
 * given, else the host's (loopback resolvers left out, as the container
 * cannot reach them), and Docker's default resolvers when none is left.
 */
export function resolvConfFile(
  hostText: string,
  dns: string[] = [],
  search: string[] = [],
): string {
  let lines = hostText.split("\n");
  if (search.length > 0) lines = lines.filter((l) => !/^\s*(search|domain)\s/.test(l));
  if (dns.length > 0) lines = lines.filter((l) => !/^\s*nameserver\s/.test(l));
  lines = lines.filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$)/.test(l));
  const head: string[] = [];
  if (search.length > 0) head.push(`search ${search.join(" ")}`);
  for (const server of dns) head.push(`nameserver ${server}`);
  lines = [...head, ...lines];
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) {
    lines.push("nameserver 8.8.8.8", "nameserver 8.8.4.4");
  }
  return lines.join("\n").trim() + "\n";
}

/**
 * Before runtime create: a `container:ID` container gets that container's
 * network namespace in its spec (its init's pid changes at every start).
 * @throws {EngineError} when that container does not run
 */
export function joinNetworkNamespace(
  containers: ContainerStore,
  record: ContainerRecord,
  bundle: string,
): void {
  const mode = record.HostConfig.NetworkMode;
  if (!mode.startsWith("container:")) return;
  const targetId = mode.slice("container:".length);
  let target: ContainerRecord;
  try {
    target = containers.read(targetId);
  } catch {
    throw new EngineError(`No such container: ${targetId}`, { exitCode: 125 });
  }
  if (!target.State.Running || target.State.Pid <= 0) {
    throw new EngineError(
      `cannot join network of a non running container: ${targetId}`,
      { exitCode: 125 },
    );
  }
  const path = `${bundle}/config.json`;
  const spec = JSON.parse(Deno.readTextFileSync(path)) as Spec;
  const namespaces = (spec.linux?.namespaces ?? []).filter((n) => n.type !== "network");
  namespaces.push({ type: "network", path: `/proc/${target.State.Pid}/ns/net` });
  spec.linux = { ...spec.linux, namespaces };
  const tmp = `${containers.tmpDir}/config.${Deno.pid}.${Date.now()}.json`;
  Deno.writeTextFileSync(tmp, JSON.stringify(spec, null, 2));
  Deno.renameSync(tmp, path);
}

function splitCidr(address: string): [string, number] {
  const [ip, prefix] = address.split("/");
  return [ip!, Number(prefix)];
}

function isExists(error: unknown): boolean {
  return (error as { code?: string }).code === "EEXIST";
}

/** The bridge of a network, made on first use with its gateway address, up. */
function ensureBridge(nl: Rtnetlink, network: NetworkRecord): string {
  const bridge = network.Berth.bridge || DEFAULT_BRIDGE;
  if (nl.linkIndex(bridge) === undefined) {
    try {
      nl.linkAddBridge(bridge);
    } catch (error) {
      if (!isExists(error)) throw error; // another start made it meanwhile
    }
  }
  const have = new Set(nl.listAddresses(bridge).map((a) => `${a.address}/${a.prefixLength}`));
  for (const config of network.IPAM.Config) {
    const prefix = Number(config.Subnet.split("/")[1]);
    if (have.has(`${config.Gateway}/${prefix}`)) continue;
    try {
      nl.addressAdd(bridge, config.Gateway, prefix);
    } catch (error) {
      if (!isExists(error)) throw error;
    }
  }
  nl.linkSetUp(bridge);
  return bridge;
}

/**
 * At start, with init waiting in its namespaces: a bridge-mode container
 * gets its lease and its link, and the record and /etc/hosts say so.
 * Nothing is left behind when it fails.
 * @throws {ConflictError} the address was taken meanwhile
 * @throws {SyscallError} from netlink
 */
export async function connectNetwork(
  containers: ContainerStore,
  id: string,
  pid: number,
  options: { mac?: string; ip?: string } = {},
): Promise<void> {
  const record = containers.read(id);
  const name = bridgeNetworkName(record.HostConfig.NetworkMode);
  if (name === undefined) {
    if (record.HostConfig.NetworkMode === "none") {
      const nl = Rtnetlink.openAt(`/proc/${pid}/ns/net`);
      try {
        nl.linkSetUp("lo");
      } finally {
        nl.close();
      }
    }
    return;
  }
  const networks = networksOf(containers);
  const net = record.Net ?? {};
  const endpoint = await networks.allocate(name, id, {
    name: record.Name.replace(/^\//, ""),
    ...(net.ip !== undefined ? { ip: net.ip } : {}),
    ...(net.mac !== undefined ? { mac: net.mac } : {}),
    ...options,
  });
  const veth = hostVethName(id);
  const host = Rtnetlink.open();
  try {
    const network = await networks.get(name);
    const bridge = ensureBridge(host, network);
    if (host.linkIndex(veth) !== undefined) host.linkDelete(veth); // a killed start's leftover
    const nsFd = openNs(`/proc/${pid}/ns/net`);
    try {
      host.linkAddVeth(veth, "eth0", nsFd);
    } finally {
      closeFd(nsFd);
    }
    host.linkSetMaster(veth, bridge);
    host.linkSetUp(veth);
    const [ip, prefix] = splitCidr(endpoint.IPv4Address);
    const gateway = network.IPAM.Config.find((c) => c.Subnet.endsWith(`/${prefix}`))?.Gateway ??
      network.IPAM.Config[0]!.Gateway;
    const inside = Rtnetlink.openAt(`/proc/${pid}/ns/net`);
    try {
      inside.linkSetUp("lo");
      inside.linkSetMac("eth0", endpoint.MacAddress);
      inside.addressAdd("eth0", ip, prefix);
      inside.linkSetUp("eth0");
      if (!network.Internal) inside.routeAdd({ gateway, link: "eth0" });
    } finally {
      inside.close();
    }
    await withLock(natLock(containers), async () => {
      // Host ports: `-p` as given, `-P`'s at random, none another container or
      // process holds; chosen and recorded under the lock, so two starts never
      // pick one port.
      let ports: PortMap = {};
      if (publishesPorts(record)) {
        const others = containers.list().filter((r) => r.Id !== id);
        ports = choosePorts(startBindings(record), portsTakenBy(others), portIsFree);
      }
      const updated = containers.update(id, (r) => {
        r.NetworkSettings = settingsFor(network, endpoint, gateway, pid);
        (r.NetworkSettings as NonNullable<PortFields["NetworkSettings"]>).Ports = ports;
      });
      writeHosts(containers, updated, ip);
      // The berth nftables table follows the network records (masquerade, --internal,
      // isolation) and the running containers' ports.
      await applyNatOf(containers);
    });
  } catch (error) {
    try {
      if (host.linkIndex(veth) !== undefined) host.linkDelete(veth);
    } catch {
      // gone with the namespace
    }
    await networks.release(name, id).catch(() => {});
    try {
      containers.update(id, (r) => {
        if (r.NetworkSettings !== undefined) {
          (r.NetworkSettings as NonNullable<PortFields["NetworkSettings"]>).Ports = {};
          for (const ep of Object.values(r.NetworkSettings.Networks)) ep.IPAddress = "";
        }
      });
      await rebuildNat(containers);
    } catch {
      // the table is rebuilt again at the next start or end
    }
    throw error;
  } finally {
    host.close();
  }
}

function settingsFor(
  network: NetworkRecord,
  endpoint: Endpoint,
  gateway: string,
  pid: number,
): NetworkSettingsView {
  const [ip, prefix] = splitCidr(endpoint.IPv4Address);
  const settings: EndpointSettings = {
    NetworkID: network.Id,
    EndpointID: endpoint.EndpointID,
    Gateway: network.Internal ? "" : gateway,
    IPAddress: ip,
    IPPrefixLen: prefix,
    MacAddress: endpoint.MacAddress,
  };
  return {
    SandboxKey: `/proc/${pid}/ns/net`,
    Gateway: network.Name === "bridge" ? settings.Gateway : "",
    IPAddress: network.Name === "bridge" ? ip : "",
    IPPrefixLen: network.Name === "bridge" ? prefix : 0,
    MacAddress: network.Name === "bridge" ? endpoint.MacAddress : "",
    Networks: { [network.Name]: settings },
  };
}

function writeHosts(containers: ContainerStore, record: ContainerRecord, ip?: string): void {
  // Written in place: the container's /etc/hosts is a bind mount of this file.
  Deno.writeTextFileSync(
    `${containers.path(record.Id)}/hosts`,
    hostsFile(record.HostConfig.ExtraHosts ?? [], record.Config.Hostname, ip),
  );
}

/**
 * When the container has ended (exit, stop, rm, a killed monitor found
 * out): its host veth goes and its lease ends. Safe to call again.
 */
export async function disconnectNetwork(containers: ContainerStore, id: string): Promise<void> {
  let nl: Rtnetlink | undefined;
  try {
    nl = Rtnetlink.open();
    if (nl.linkIndex(hostVethName(id)) !== undefined) nl.linkDelete(hostVethName(id));
  } catch {
    // gone with the container's namespace already
  } finally {
    nl?.close();
  }
  await networksOf(containers).releaseContainer(id);
  let published = false;
  try {
    containers.update(id, (r) => {
      if (r.NetworkSettings === undefined) return;
      const settings = r.NetworkSettings as NonNullable<PortFields["NetworkSettings"]>;
      published = Object.keys(settings.Ports ?? {}).length > 0;
      if (settings.Ports !== undefined) settings.Ports = {};
      r.NetworkSettings.SandboxKey = "";
      r.NetworkSettings.IPAddress = "";
      r.NetworkSettings.IPPrefixLen = 0;
      r.NetworkSettings.Gateway = "";
      r.NetworkSettings.MacAddress = "";
      for (const ep of Object.values(r.NetworkSettings.Networks)) {
        ep.EndpointID = "";
        ep.IPAddress = "";
        ep.IPPrefixLen = 0;
        ep.Gateway = "";
        ep.MacAddress = "";
      }
    });
  } catch {
    // removed meanwhile
  }
  if (published) await rebuildNat(containers);
}

/**
 * Rebuilds the berth nftables table from the network records and the
 * running containers' published ports (an ended container has none).
 * @throws {NftError}
 */
export function rebuildNat(containers: ContainerStore): Promise<void> {
  return withLock(natLock(containers), () => applyNatOf(containers));
}

/** The lock around choosing host ports and applying the table: `<root>/nat.lock`. */
function natLock(containers: ContainerStore): string {
  return `${containers.root}/nat.lock`;
}

/** rebuildNat's work, for a caller that holds the lock. */
async function applyNatOf(containers: ContainerStore): Promise<void> {
  const nets = await networksOf(containers).list();
  const bridges = new Map(nets.map((n) => [n.Name, n.Berth.bridge]));
  await applyNat(
    nets,
    natForwards(containers.list(), (name) => bridges.get(name) || undefined),
    { path: `${containers.root}/nat.applied`, tmpDir: containers.tmpDir },
  );
}

/**
 * After networks are removed: their bridges go (when they exist) and the
 * berth table is rebuilt without them.
 * @throws {SyscallError} {NftError}
 */
export async function removeNetworkLinks(
  containers: ContainerStore,
  removed: readonly NetworkRecord[],
): Promise<void> {
  const nl = Rtnetlink.open();
  try {
    for (const n of removed) {
      if (n.Berth.bridge !== "" && nl.linkIndex(n.Berth.bridge) !== undefined) {
        nl.linkDelete(n.Berth.bridge);
      }
    }
  } finally {
    nl.close();
  }
  await rebuildNat(containers);
}
