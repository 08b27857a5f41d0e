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
 * the default route via the gateway (not on an `--internal` network); the
 * other networks of its record follow as `eth1`, `eth2`... (`network
 * connect` adds them, to a running container at once). When the container
 * ends, its host-side veths are deleted (the peers die with the namespace)
 * and its leases end.
 *
 * Names without a resident daemon: every running container's hosts file
 * (bind-mounted as /etc/hosts) lists the others on each user-defined network
 * it shares, by name, aliases and short ID, and is rewritten in place, under
 * `<root>/nat.lock`, whenever a container joins or leaves a network. The
 * resolv.conf stays the one written at create (Docker points it at its
 * embedded DNS, 127.0.0.11, on user-defined networks).
 *
 * @module
 */
import { closeFd } from "../../ffi/fd.ts";
import { Rtnetlink } from "../../ffi/netlink.ts";
import { openNs } from "../../ffi/ns.ts";
import { ConflictError, InvalidError, NotFoundError } from "../errors.ts";
import type { Spec } from "../runtime/mod.ts";
import type { ContainerRecord, ContainerStore } from "./container_record.ts";
import {
  emptyEndpoint,
  type EndpointSettings,
  initialSettings,
  type NetworkSettingsView,
} from "./container_network_view.ts";
import {
  allocateIn,
  DEFAULT_BRIDGE,
  type Endpoint,
  isPredefined,
  type NetworkRecord,
  NetworkStore,
  parseIPv4,
} from "./networks/mod.ts";
import { applyNat } from "./networks/nat.ts";
import { joinSharedNamespaces } from "./container_namespaces.ts";
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
  /** `--network-alias`: names the others on a user-defined network resolve it by. */
  aliases?: string[];
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

/** How many networks a container joins at most: eth0 .. eth35. */
const MAX_SLOTS = 36;

/**
 * The host side of a container's veth for its `eth<slot>`: `vb<id12>` for
 * eth0, `vb<id12><slot in base 36>` for eth1..eth35 (15 characters, the
 * kernel's limit), so every leftover of a container is found from its ID.
 */
export function hostVethName(id: string, slot = 0): string {
  return slot === 0 ? `vb${id.slice(0, 12)}` : `vb${id.slice(0, 12)}${slot.toString(36)}`;
}

/** Whether a host link is one of a container's veths (see {@linkcode hostVethName}). */
export function isHostVethOf(id: string, link: string): boolean {
  const base = hostVethName(id);
  return link === base || (link.length === base.length + 1 && link.startsWith(base));
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
  /** The record's `NetworkSettings` before the first start (with `--ip` and `--network-alias`). */
  settings: NetworkSettingsView;
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
  if ((request.aliases ?? []).length > 0 && (network === undefined || isPredefined(network.Name))) {
    throw new InvalidError(
      "network-scoped alias is supported only for containers in user defined networks",
    );
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
  const settings = initialSettings(mode, network, {
    ...(request.ip !== undefined ? { ip: request.ip } : {}),
    ...(request.aliases !== undefined ? { aliases: request.aliases } : {}),
  });
  return { mode, ...(network !== undefined ? { network } : {}), extraHosts, settings };
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
 * network namespace (and `--ipc`/`--pid container:X` theirs) in its spec;
 * their inits' pids change at every start.
 * @throws {EngineError} when that container does not run
 */
export function joinNetworkNamespace(
  containers: ContainerStore,
  record: ContainerRecord,
  bundle: string,
): void {
  joinSharedNamespaces(containers, record, bundle);
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

/** The bridge networks a container joins at start, primary first: eth0, eth1, ... */
function joinedNetworks(record: ContainerRecord): string[] {
  const listed = Object.keys(record.NetworkSettings?.Networks ?? {});
  const primary = bridgeNetworkName(record.HostConfig.NetworkMode);
  if (primary === undefined) return [];
  const rest = listed.filter((n) => n !== primary && bridgeNetworkName(n) !== undefined);
  // An old record lists nothing: its mode is its network.
  return listed.includes(primary) || listed.length === 0 ? [primary, ...rest] : rest;
}

/** What a container asks of a network: `--ip` (its IPAMConfig, or run's `--ip` on older records). */
function askedIp(record: ContainerRecord, name: string): string | undefined {
  const ep = record.NetworkSettings?.Networks[name];
  if (ep?.IPAMConfig?.IPv4Address) return ep.IPAMConfig.IPv4Address;
  if (ep?.IPAMConfig === undefined && name === bridgeNetworkName(record.HostConfig.NetworkMode)) {
    return record.Net?.ip;
  }
  return undefined;
}

/** One link made for a network: what is undone when a later step fails. */
interface Joined {
  network: NetworkRecord;
  endpoint: Endpoint;
  slot: number;
  gateway: string;
}

/**
 * Makes a container's link on one network in init's netns: lease, bridge,
 * veth `hostVethName(id, slot)` with its peer `eth<slot>`, MAC, address,
 * up, and the default route when `route`. Undoes its own steps on failure.
 */
async function joinOne(
  containers: ContainerStore,
  record: ContainerRecord,
  name: string,
  pid: number,
  slot: number,
  route: (network: NetworkRecord) => boolean,
): Promise<Joined> {
  const id = record.Id;
  const networks = networksOf(containers);
  let network: NetworkRecord;
  try {
    network = await networks.get(name);
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError(`network ${name} not found`);
    throw error;
  }
  const ip = askedIp(record, name);
  const mac = name === bridgeNetworkName(record.HostConfig.NetworkMode)
    ? record.Net?.mac
    : undefined;
  const endpoint = await networks.allocate(network.Id, id, {
    name: record.Name.replace(/^\//, ""),
    ...(ip !== undefined ? { ip } : {}),
    ...(mac !== undefined ? { mac } : {}),
  });
  const veth = hostVethName(id, slot);
  const host = Rtnetlink.open();
  try {
    const bridge = ensureBridge(host, network);
    if (host.linkIndex(veth) !== undefined) host.linkDelete(veth); // a killed start's leftover
    const nsFd = openNs(`/proc/${pid}/ns/net`);
    try {
      host.linkAddVeth(veth, `eth${slot}`, nsFd);
    } finally {
      closeFd(nsFd);
    }
    host.linkSetMaster(veth, bridge);
    host.linkSetUp(veth);
    const [address, prefix] = splitCidr(endpoint.IPv4Address);
    const gateway = network.IPAM.Config.find((c) => c.Subnet.endsWith(`/${prefix}`))?.Gateway ??
      network.IPAM.Config[0]!.Gateway;
    const inside = Rtnetlink.openAt(`/proc/${pid}/ns/net`);
    try {
      const link = `eth${slot}`;
      inside.linkSetUp("lo");
      inside.linkSetMac(link, endpoint.MacAddress);
      inside.addressAdd(link, address, prefix);
      inside.linkSetUp(link);
      if (!network.Internal && route(network)) inside.routeAdd({ gateway, link });
    } finally {
      inside.close();
    }
    return { network, endpoint, slot, gateway };
  } catch (error) {
    try {
      if (host.linkIndex(veth) !== undefined) host.linkDelete(veth);
    } catch {
      // gone with the namespace
    }
    await networks.release(network.Id, id).catch(() => {});
    throw error;
  } finally {
    host.close();
  }
}

/**
 * At start, with init waiting in its namespaces: a bridge-mode container
 * gets a lease and a link on each of its networks (the primary as `eth0`,
 * then `eth1`...), and the records, its /etc/hosts and those of the
 * containers it shares a user-defined network with say so. Nothing is left
 * behind when it fails.
 * @throws {ConflictError} an address was taken meanwhile
 * @throws {NotFoundError} `network X not found`: a network it was connected to is gone
 * @throws {SyscallError} from netlink
 */
export async function connectNetwork(
  containers: ContainerStore,
  id: string,
  pid: number,
): Promise<void> {
  const record = containers.read(id);
  const names = joinedNetworks(record);
  if (names.length === 0) {
    if (
      record.HostConfig.NetworkMode === "none" || bridgeNetworkName(record.HostConfig.NetworkMode)
    ) {
      const nl = Rtnetlink.openAt(`/proc/${pid}/ns/net`);
      try {
        nl.linkSetUp("lo");
      } finally {
        nl.close();
      }
    }
    return;
  }
  const joined: Joined[] = [];
  try {
    for (const name of names) {
      const routed = joined.some((j) => !j.network.Internal);
      joined.push(await joinOne(containers, record, name, pid, joined.length, () => !routed));
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
      containers.update(id, (r) => {
        r.NetworkSettings = settingsFor(r, joined, pid);
        (r.NetworkSettings as NonNullable<PortFields["NetworkSettings"]>).Ports = ports;
      });
      refreshHostsOf(containers, new Set(joined.map((j) => j.network.Id)), id);
      // The berth nftables table follows the network records (masquerade, --internal,
      // isolation) and the running containers' ports.
      await applyNatOf(containers);
    });
  } catch (error) {
    const host = openHostNetlink();
    for (const j of joined) {
      try {
        if (host?.linkIndex(hostVethName(id, j.slot)) !== undefined) {
          host?.linkDelete(hostVethName(id, j.slot));
        }
      } catch {
        // gone with the namespace
      }
    }
    host?.close();
    await networksOf(containers).releaseContainer(id).catch(() => {});
    try {
      await withLock(natLock(containers), async () => {
        containers.update(id, (r) => clearSettings(r));
        refreshHostsOf(containers, new Set(joined.map((j) => j.network.Id)));
        await applyNatOf(containers);
      });
    } catch {
      // the table is rebuilt again at the next start or end
    }
    throw error;
  }
}

function openHostNetlink(): Rtnetlink | undefined {
  try {
    return Rtnetlink.open();
  } catch {
    return undefined;
  }
}

/** Whether a network name is user-defined (Docker resolves names only there). */
function isUserDefined(name: string): boolean {
  return !isPredefined(name);
}

/** The names others resolve a container by on a user-defined network: Docker's DNSNames. */
export function dnsNames(record: ContainerRecord, aliases: readonly string[] | null | undefined) {
  return [record.Name.replace(/^\//, ""), ...(aliases ?? []), record.Id.slice(0, 12)];
}

function endpointSettings(
  record: ContainerRecord,
  name: string,
  j: Joined,
): EndpointSettings {
  const before = record.NetworkSettings?.Networks[name];
  const [ip, prefix] = splitCidr(j.endpoint.IPv4Address);
  const aliases = before?.Aliases ?? null;
  return {
    IPAMConfig: before?.IPAMConfig ?? null,
    Aliases: aliases,
    MacAddress: j.endpoint.MacAddress,
    NetworkID: j.network.Id,
    EndpointID: j.endpoint.EndpointID,
    Gateway: j.network.Internal ? "" : j.gateway,
    IPAddress: ip,
    IPPrefixLen: prefix,
    DNSNames: isUserDefined(name) ? dnsNames(record, aliases) : null,
  };
}

function settingsFor(
  record: ContainerRecord,
  joined: readonly Joined[],
  pid: number,
): NetworkSettingsView {
  const networks: Record<string, EndpointSettings> = {};
  for (const j of joined) networks[j.network.Name] = endpointSettings(record, j.network.Name, j);
  const bridge = networks["bridge"];
  return {
    SandboxKey: `/proc/${pid}/ns/net`,
    Gateway: bridge?.Gateway ?? "",
    IPAddress: bridge?.IPAddress ?? "",
    IPPrefixLen: bridge?.IPPrefixLen ?? 0,
    MacAddress: bridge?.MacAddress ?? "",
    Networks: networks,
  };
}

/** The record of an ended container: no address anywhere, no ports. */
function clearSettings(r: ContainerRecord): void {
  if (r.NetworkSettings === undefined) return;
  const settings = r.NetworkSettings as NonNullable<PortFields["NetworkSettings"]>;
  if (settings.Ports !== undefined) settings.Ports = {};
  r.NetworkSettings.SandboxKey = "";
  r.NetworkSettings.IPAddress = "";
  r.NetworkSettings.IPPrefixLen = 0;
  r.NetworkSettings.Gateway = "";
  r.NetworkSettings.MacAddress = "";
  for (const ep of Object.values(r.NetworkSettings.Networks)) clearEndpoint(ep);
}

function clearEndpoint(ep: EndpointSettings): void {
  ep.EndpointID = "";
  ep.IPAddress = "";
  ep.IPPrefixLen = 0;
  ep.Gateway = "";
  ep.MacAddress = "";
  if (ep.DNSNames !== undefined) ep.DNSNames = null;
}

/** The networks a container has an address on now (network ID -> endpoint). */
function presentOn(record: ContainerRecord): Map<string, EndpointSettings> {
  const out = new Map<string, EndpointSettings>();
  for (const [name, ep] of Object.entries(record.NetworkSettings?.Networks ?? {})) {
    if (ep.IPAddress !== "" && ep.NetworkID !== "" && isUserDefined(name)) {
      out.set(ep.NetworkID, ep);
    }
  }
  return out;
}

/** The primary address of a container that has one: the address its own hosts line gives. */
function ownAddress(record: ContainerRecord): string | undefined {
  const eps = Object.values(record.NetworkSettings?.Networks ?? {});
  return eps.find((ep) => ep.IPAddress !== "")?.IPAddress;
}

/**
 * A running container's /etc/hosts as the records say: Docker's head,
 * `--add-host`, its own address, then one line per other container that
 * has an address on a user-defined network it shares (`IP\tNAME ALIAS... ID12`),
 * which is what Docker's embedded DNS answers there.
 */
export function hostsText(record: ContainerRecord, all: readonly ContainerRecord[]): string {
  let text = hostsFile(
    record.HostConfig.ExtraHosts ?? [],
    record.Config.Hostname,
    ownAddress(record),
  );
  const mine = presentOn(record);
  for (const other of all) {
    if (other.Id === record.Id) continue;
    for (const [networkId, ep] of presentOn(other)) {
      if (!mine.has(networkId)) continue;
      text += `${ep.IPAddress}\t${(ep.DNSNames ?? dnsNames(other, ep.Aliases)).join(" ")}\n`;
    }
  }
  return text;
}

/**
 * Rewrites, in place, the hosts file of every container with an address on
 * one of these networks (and of `self`): the container's /etc/hosts is a
 * bind mount of that file, so it is written over and then cut to its new
 * length, never replaced, and a reader never sees it empty. Call under
 * nat.lock.
 */
function refreshHostsOf(
  containers: ContainerStore,
  networkIds: ReadonlySet<string>,
  self?: string,
): void {
  const all = containers.list();
  for (const r of all) {
    const on = [...presentOn(r).keys()].some((n) => networkIds.has(n));
    if (!on && r.Id !== self) continue;
    if (ownAddress(r) === undefined) continue;
    try {
      writeInPlace(`${containers.path(r.Id)}/hosts`, hostsText(r, all));
    } catch {
      // removed meanwhile
    }
  }
}

function writeInPlace(path: string, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let old: Uint8Array | undefined;
  try {
    old = Deno.readFileSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (old !== undefined && old.length === bytes.length && old.every((b, i) => b === bytes[i])) {
    return;
  }
  const file = Deno.openSync(path, { write: true, create: true });
  try {
    let done = 0;
    while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
    file.truncateSync(bytes.length);
  } finally {
    file.close();
  }
}

/**
 * When the container has ended (exit, stop, rm, a killed monitor found
 * out): its host veths go, its leases end, the others' hosts files lose it.
 * Safe to call again.
 */
export async function disconnectNetwork(containers: ContainerStore, id: string): Promise<void> {
  const host = openHostNetlink();
  try {
    for (const link of host?.listLinks() ?? []) {
      if (isHostVethOf(id, link.name)) host!.linkDelete(link.name);
    }
  } catch {
    // gone with the container's namespace already
  } finally {
    host?.close();
  }
  await networksOf(containers).releaseContainer(id);
  await withLock(natLock(containers), async () => {
    let published = false;
    let had = new Set<string>();
    try {
      containers.update(id, (r) => {
        if (r.NetworkSettings === undefined) return;
        had = new Set(presentOn(r).keys());
        const settings = r.NetworkSettings as NonNullable<PortFields["NetworkSettings"]>;
        published = Object.keys(settings.Ports ?? {}).length > 0;
        clearSettings(r);
      });
    } catch {
      return; // removed meanwhile
    }
    if (had.size > 0) refreshHostsOf(containers, had);
    if (published) await applyNatOf(containers);
  });
}

/** What `network connect` asks. */
export interface ConnectRequest {
  ip?: string;
  aliases?: string[];
}

const ERR_HOST = "container cannot be disconnected from host network or connected to host network";
const ERR_SHARED =
  "container sharing network namespace with another container or host cannot be connected to any other network";
const ERR_NONE =
  "container cannot be connected to multiple networks with one of the networks in private (none) mode";
const ERR_ALIAS = "network-scoped alias is supported only for containers in user defined networks";

async function findNetwork(containers: ContainerStore, ref: string): Promise<NetworkRecord> {
  try {
    return await networksOf(containers).get(ref);
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError(`network ${ref} not found`);
    throw error;
  }
}

/**
 * `network connect [--ip] [--alias] NET CTR`. A running container gets its
 * link at once (the next free ethN in its init's netns, a lease, the default
 * route only when no other network gives one) and the hosts files follow; a
 * stopped one only has the network added to its record, joined at its next
 * start. A failure leaves no veth, lease or record change.
 * @throws {NotFoundError} `network X not found`
 * @throws {ConflictError} {InvalidError} Docker's refusals
 */
export async function connectContainer(
  containers: ContainerStore,
  containerId: string,
  ref: string,
  request: ConnectRequest = {},
): Promise<void> {
  const network = await findNetwork(containers, ref);
  await withLock(natLock(containers), async () => {
    const record = containers.read(containerId);
    const mode = record.HostConfig.NetworkMode;
    if (network.Driver === "host") throw new ConflictError(ERR_HOST);
    if (mode === "host" || mode.startsWith("container:")) throw new ConflictError(ERR_SHARED);
    if (network.Driver === "null" || network.Name === "none" || mode === "none") {
      throw new ConflictError(ERR_NONE);
    }
    const listed = record.NetworkSettings?.Networks ?? {};
    if (network.Name in listed || (Object.keys(listed).length === 0 && mode === network.Name)) {
      throw new ConflictError(
        `container ${record.Id} is already connected to network ${network.Name}`,
      );
    }
    const aliases = request.aliases ?? [];
    if (aliases.length > 0 && !isUserDefined(network.Name)) throw new InvalidError(ERR_ALIAS);
    // Docker's checks of --ip (default bridge, outside, in use), on a copy.
    allocateIn(structuredClone(network), record.Id, request.ip ? { ip: request.ip } : {});
    const entry = emptyEndpoint(network.Id, {
      ...(request.ip ? { ip: request.ip } : {}),
      aliases,
    });
    const pid = record.State.Pid;
    if (!record.State.Running || pid <= 0 || ownAddress(record) === undefined) {
      containers.update(record.Id, (r) => {
        r.NetworkSettings ??= initialSettings(mode);
        r.NetworkSettings.Networks[network.Name] = entry;
      });
      return;
    }
    const slot = freeSlot(pid);
    const withEntry = structuredClone(record);
    withEntry.NetworkSettings!.Networks[network.Name] = entry;
    const routed = hasDefaultRoute(pid);
    const j = await joinOne(containers, withEntry, network.Name, pid, slot, () => !routed);
    try {
      containers.update(record.Id, (r) => {
        r.NetworkSettings ??= initialSettings(mode);
        r.NetworkSettings.Networks[network.Name] = endpointSettings(withEntry, network.Name, j);
        if (network.Name === "bridge") {
          r.NetworkSettings.Gateway = r.NetworkSettings.Networks[network.Name]!.Gateway;
          r.NetworkSettings.IPAddress = r.NetworkSettings.Networks[network.Name]!.IPAddress;
          r.NetworkSettings.IPPrefixLen = r.NetworkSettings.Networks[network.Name]!.IPPrefixLen;
          r.NetworkSettings.MacAddress = r.NetworkSettings.Networks[network.Name]!.MacAddress;
        }
      });
    } catch (error) {
      deleteHostVeth(hostVethName(record.Id, slot));
      await networksOf(containers).release(network.Id, record.Id).catch(() => {});
      throw error;
    }
    refreshHostsOf(containers, new Set([network.Id]), record.Id);
    await applyNatOf(containers);
  });
}

/**
 * `network disconnect [-f] NET CTR`: a running container loses that link
 * (its host veth, which takes the ethN with it) and its lease, and the hosts
 * files follow; a stopped one only has it taken off its record.
 * @throws {NotFoundError} `network X not found`
 * @throws {ConflictError} not connected, or host mode
 */
export async function disconnectContainer(
  containers: ContainerStore,
  containerId: string,
  ref: string,
  force = false,
): Promise<void> {
  let network: NetworkRecord | undefined;
  try {
    network = await findNetwork(containers, ref);
  } catch (error) {
    if (!force || !(error instanceof NotFoundError)) throw error;
  }
  const name = network?.Name ?? ref;
  await withLock(natLock(containers), async () => {
    const record = containers.read(containerId);
    if (record.HostConfig.NetworkMode === "host" && network?.Driver === "host") {
      throw new ConflictError(ERR_HOST);
    }
    const listed = record.NetworkSettings?.Networks ?? {};
    const ep = listed[name];
    if (ep === undefined) {
      throw new ConflictError(`container ${record.Id} is not connected to network ${name}`);
    }
    if (ep.IPAddress !== "" && record.State.Running && record.State.Pid > 0) {
      const link = linkHolding(record.State.Pid, ep.IPAddress);
      if (link !== undefined) {
        const slot = Number(link.slice(3));
        deleteHostVeth(hostVethName(record.Id, slot));
      }
    }
    if (network !== undefined) await networksOf(containers).release(network.Id, record.Id);
    const had = ep.NetworkID;
    containers.update(record.Id, (r) => {
      if (r.NetworkSettings === undefined) return;
      delete r.NetworkSettings.Networks[name];
      if (name === "bridge") {
        r.NetworkSettings.Gateway = "";
        r.NetworkSettings.IPAddress = "";
        r.NetworkSettings.IPPrefixLen = 0;
        r.NetworkSettings.MacAddress = "";
      }
    });
    if (ep.IPAddress !== "") {
      refreshHostsOf(containers, new Set([had]), record.Id);
      await applyNatOf(containers);
    }
  });
}

function deleteHostVeth(name: string): void {
  const host = openHostNetlink();
  try {
    if (host?.linkIndex(name) !== undefined) host?.linkDelete(name);
  } catch {
    // gone already
  } finally {
    host?.close();
  }
}

/** The smallest N >= 1 with no `ethN` in init's netns. */
function freeSlot(pid: number): number {
  const inside = Rtnetlink.openAt(`/proc/${pid}/ns/net`);
  try {
    const names = new Set(inside.listLinks().map((l) => l.name));
    for (let n = 1; n < MAX_SLOTS; n++) if (!names.has(`eth${n}`)) return n;
  } finally {
    inside.close();
  }
  throw new ConflictError(`a container joins at most ${MAX_SLOTS} networks`);
}

function hasDefaultRoute(pid: number): boolean {
  const inside = Rtnetlink.openAt(`/proc/${pid}/ns/net`);
  try {
    return inside.listRoutes().some((r) => r.destination === "0.0.0.0/0");
  } finally {
    inside.close();
  }
}

/** The `ethN` in init's netns that holds an address, if any. */
function linkHolding(pid: number, address: string): string | undefined {
  let inside: Rtnetlink;
  try {
    inside = Rtnetlink.openAt(`/proc/${pid}/ns/net`);
  } catch {
    return undefined; // it ended meanwhile
  }
  try {
    const index = inside.listAddresses().find((a) => a.address === address)?.index;
    const name = inside.listLinks().find((l) => l.index === index)?.name;
    return name !== undefined && /^eth\d+$/.test(name) ? name : undefined;
  } finally {
    inside.close();
  }
}
/**
 * After `rename`: the container's names on its user-defined networks
 * (DNSNames) follow its new name, and so do the others' hosts files.
 */
export async function renamedOnNetworks(containers: ContainerStore, id: string): Promise<void> {
  await withLock(natLock(containers), () => {
    let changed = new Set<string>();
    containers.update(id, (r) => {
      changed = new Set(presentOn(r).keys());
      for (const [name, ep] of Object.entries(r.NetworkSettings?.Networks ?? {})) {
        if (ep.DNSNames !== undefined && ep.DNSNames !== null && isUserDefined(name)) {
          ep.DNSNames = dnsNames(r, ep.Aliases);
        }
      }
    });
    if (changed.size > 0) refreshHostsOf(containers, changed, id);
  });
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
  // Only networks whose bridge exists in this namespace get rules: a `network rm`
  // or `prune` where no container ever ran on a bridge makes no table (and does
  // not turn forwarding on) in a namespace berth has no bridge in.
  const nets = withBridgeHere(await networksOf(containers).list());
  const bridges = new Map(nets.map((n) => [n.Name, n.Berth.bridge]));
  await applyNat(
    nets,
    natForwards(containers.list(), (name) => bridges.get(name) || undefined),
    { path: `${containers.root}/nat.applied`, tmpDir: containers.tmpDir },
  );
}

/** The networks whose bridge device exists in berth's network namespace. */
function withBridgeHere(nets: NetworkRecord[]): NetworkRecord[] {
  const nl = openHostNetlink();
  if (nl === undefined) return [];
  try {
    return nets.filter((n) => n.Berth.bridge !== "" && nl.linkIndex(n.Berth.bridge) !== undefined);
  } finally {
    nl.close();
  }
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
