/**
 * Port publishing: `-p [hostIP:]hostPort:containerPort[/proto]` (and
 * ranges, and `-p containerPort`), `-P` and `--expose`, read with Docker's
 * grammar (go-connections' `nat.ParsePortSpec`) and messages, the random
 * host ports Docker takes from the ephemeral range, and the forwards the
 * nftables table is built from.
 *
 * The request is kept as Docker keeps it: `HostConfig.PortBindings` as
 * given (`"80/tcp": [{HostIp: "127.0.0.1", HostPort: "18080"}]`, an empty
 * HostPort for a random one), the ports chosen at start in
 * `NetworkSettings.Ports`.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";
import type { PortForward } from "./networks/nat.ts";

export type { PortForward };

/** One host side of a published port, as Docker's `nat.PortBinding`. */
export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** `"80/tcp"` -> its bindings, as `HostConfig.PortBindings` and `NetworkSettings.Ports`. */
export type PortMap = Record<string, PortBinding[]>;

/** Docker's ephemeral range for random host ports (`net.ipv4.ip_local_port_range`'s default). */
export const EPHEMERAL_FIRST = 32768;
/** The last port of the ephemeral range. */
export const EPHEMERAL_LAST = 60999;

const PROTOS = new Set(["tcp", "udp", "sctp"]);

/** Go's strconv.ParseUint(s, 10, 16), or undefined. */
function parsePort(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/** go-connections' ParsePortRange: `80` or `80-81`. */
export function parsePortRange(text: string): [number, number] | undefined {
  if (text === "") return undefined;
  if (!text.includes("-")) {
    const n = parsePort(text);
    return n === undefined ? undefined : [n, n];
  }
  const parts = text.split("-");
  const start = parsePort(parts[0]!);
  const end = parsePort(parts[1]!);
  if (start === undefined || end === undefined || end < start) return undefined;
  return [start, end];
}

function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split("/");
  if (raw === "" || parts[0] === "") return ["", ""];
  if (parts.length === 1) return ["tcp", raw];
  if (parts[1] === "") return ["tcp", parts[0]!];
  return [parts[1]!, parts[0]!];
}

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(":");
  const n = parts.length;
  const container = parts[n - 1]!;
  if (n === 1) return ["", "", container];
  if (n === 2) return ["", parts[0]!, container];
  return [parts.slice(0, n - 2).join(":"), parts[n - 2]!, container];
}

function validIp(ip: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4 !== null) return v4.slice(1).every((o) => Number(o) <= 255 && !/^0\d/.test(o));
  return ip.includes(":") && /^[0-9a-fA-F:.]+$/.test(ip);
}

/** One `-p`, as `nat.PortMapping`s: `"80/tcp"` and its binding. */
export interface PortMapping {
  port: string;
  binding: PortBinding;
}

/**
 * Reads one `-p` as Docker does.
 * @throws {InvalidError} with Docker's message
 */
export function parsePortSpec(raw: string): PortMapping[] {
  let [ip, hostPort, containerPort] = splitParts(raw);
  let proto: string;
  [proto, containerPort] = splitProtoPort(containerPort);
  if (ip.startsWith("[")) {
    if (!ip.endsWith("]")) {
      throw new InvalidError(`Invalid ip address ${ip}: missing ']' in address`);
    }
    ip = ip.slice(1, -1);
  }
  if (ip !== "" && !validIp(ip)) throw new InvalidError(`invalid IP address: ${ip}`);
  if (containerPort === "") throw new InvalidError(`no port specified: ${raw}<empty>`);
  const cRange = parsePortRange(containerPort);
  if (cRange === undefined) throw new InvalidError(`invalid containerPort: ${containerPort}`);
  let hRange: [number, number] = [0, 0];
  if (hostPort !== "") {
    const h = parsePortRange(hostPort);
    if (h === undefined) throw new InvalidError(`invalid hostPort: ${hostPort}`);
    hRange = h;
  }
  const [start, end] = cRange;
  if (hostPort !== "" && end - start !== hRange[1] - hRange[0] && end !== start) {
    throw new InvalidError(
      `invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`,
    );
  }
  proto = proto.toLowerCase();
  if (!PROTOS.has(proto)) throw new InvalidError(`invalid proto: ${proto}`);
  const out: PortMapping[] = [];
  for (let i = 0; i <= end - start; i++) {
    let host = hostPort === "" ? "" : String(hRange[0] + i);
    if (start === end && hRange[0] !== hRange[1]) host = `${hRange[0]}-${hRange[1]}`;
    out.push({ port: `${start + i}/${proto}`, binding: { HostIp: ip, HostPort: host } });
  }
  return out;
}

/**
 * All `-p` of a run, as `HostConfig.PortBindings`, and the ports they expose.
 * @throws {InvalidError}
 */
export function parsePublish(specs: readonly string[]): PortMap {
  const map: PortMap = {};
  for (const spec of specs) {
    for (const m of parsePortSpec(spec)) (map[m.port] ??= []).push(m.binding);
  }
  return map;
}

/**
 * `--expose PORT[-PORT][/proto]` as `Config.ExposedPorts` keys.
 * @throws {InvalidError} Docker's message
 */
export function parseExpose(specs: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of specs) {
    if (raw.includes(":")) throw new InvalidError(`invalid port format for --expose: ${raw}`);
    const [proto, port] = splitProtoPort(raw);
    const range = parsePortRange(port);
    if (range === undefined) {
      throw new InvalidError(`invalid range format for --expose: ${raw}`);
    }
    if (!PROTOS.has(proto.toLowerCase())) throw new InvalidError(`invalid proto: ${proto}`);
    for (let p = range[0]; p <= range[1]; p++) out.push(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

/**
 * The bindings of a container: `-p` as given, and with `-P` every exposed
 * port not published otherwise on a random host port.
 */
export function portBindings(publish: PortMap, exposed: readonly string[], all: boolean): PortMap {
  const map: PortMap = structuredClone(publish);
  if (all) {
    for (const port of exposed) map[port] ??= [{ HostIp: "", HostPort: "" }];
  }
  return map;
}

/** A host port in use: `host:port/proto`. */
function key(ip: string, port: number, proto: string): string {
  return `${ip === "" ? "0.0.0.0" : ip}:${port}/${proto}`;
}

function clashes(taken: ReadonlySet<string>, ip: string, port: number, proto: string): boolean {
  const wildcard = ip === "" || ip === "0.0.0.0";
  for (const t of taken) {
    const at = t.lastIndexOf(":");
    if (t.slice(at) !== `:${port}/${proto}`) continue;
    const tip = t.slice(0, at);
    if (wildcard || tip === "0.0.0.0" || tip === ip) return true;
  }
  return false;
}

/** The host ports of running containers' `NetworkSettings.Ports`, as the keys clashes reads. */
export function takenPorts(maps: readonly (PortMap | null | undefined)[]): Set<string> {
  const taken = new Set<string>();
  for (const map of maps) {
    for (const [port, bindings] of Object.entries(map ?? {})) {
      const proto = port.split("/")[1] ?? "tcp";
      for (const b of bindings ?? []) {
        const n = Number(b.HostPort);
        if (b.HostPort !== "" && Number.isInteger(n)) taken.add(key(b.HostIp, n, proto));
      }
    }
  }
  return taken;
}

/** The failure of a host port that is in use: Docker's message. */
export class PortAllocatedError extends InvalidError {}

/**
 * The host ports of a container at start, as `NetworkSettings.Ports`:
 * given ones checked, random ones from a given range or the ephemeral
 * range, none among `taken` (other containers' ports) and each one that
 * `free(ip, port, proto)` says nothing else has bound.
 * @throws {PortAllocatedError} `Bind for 0.0.0.0:PORT failed: port is already allocated`
 */
export function choosePorts(
  bindings: PortMap,
  taken: ReadonlySet<string>,
  free: (ip: string, port: number, proto: string) => boolean,
): PortMap {
  const used = new Set(taken);
  const out: PortMap = {};
  const ports = Object.keys(bindings).sort((a, b) => parseInt(a) - parseInt(b));
  for (const port of ports) {
    const proto = port.split("/")[1] ?? "tcp";
    out[port] = [];
    for (const b of bindings[port]!) {
      const ip = b.HostIp === "" ? "0.0.0.0" : b.HostIp;
      const range = b.HostPort === ""
        ? [EPHEMERAL_FIRST, EPHEMERAL_LAST] as const
        : parsePortRange(b.HostPort)!;
      const fixed = range[0] === range[1] && range[0] !== 0;
      let chosen: number | undefined;
      for (let p = Math.max(range[0], 1); p <= range[1]; p++) {
        if (!clashes(used, ip, p, proto) && free(ip, p, proto)) {
          chosen = p;
          break;
        }
      }
      if (chosen === undefined) {
        const shown = fixed ? String(range[0]) : `${range[0]}-${range[1]}`;
        throw new PortAllocatedError(`Bind for ${ip}:${shown} failed: port is already allocated`);
      }
      used.add(key(ip, chosen, proto));
      out[port].push({ HostIp: ip, HostPort: String(chosen) });
    }
  }
  return out;
}

/**
 * Whether nothing on this host has bound the port: bind it and let go at
 * once (a listener for tcp, a datagram socket for udp; sctp is not probed).
 */
export function portIsFree(ip: string, port: number, proto: string): boolean {
  try {
    if (proto === "tcp") Deno.listen({ hostname: ip, port, transport: "tcp" }).close();
    else if (proto === "udp") Deno.listenDatagram({ hostname: ip, port, transport: "udp" }).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return false;
    throw error;
  }
}

/** The forwards of one running container from its chosen ports and address. */
export function forwardsOf(
  ports: PortMap | null | undefined,
  containerIp: string,
  bridge: string,
): PortForward[] {
  const out: PortForward[] = [];
  if (containerIp === "" || bridge === "") return out;
  for (const [port, bindings] of Object.entries(ports ?? {})) {
    const [num, proto = "tcp"] = port.split("/");
    for (const b of bindings ?? []) {
      if (b.HostPort === "") continue;
      out.push({
        proto,
        hostIp: b.HostIp === "" ? "0.0.0.0" : b.HostIp,
        hostPort: Number(b.HostPort),
        containerIp,
        containerPort: Number(num),
        bridge,
      });
    }
  }
  return out;
}

/** Docker's `port` lines: `80/tcp -> 0.0.0.0:32768`. */
export function portLines(ports: PortMap | null | undefined, wanted?: string): string[] {
  const lines: string[] = [];
  const keys = Object.keys(ports ?? {}).sort((a, b) => parseInt(a) - parseInt(b));
  for (const port of keys) {
    if (wanted !== undefined && port !== wanted) continue;
    for (const b of ports![port] ?? []) {
      if (b.HostPort === "") continue;
      lines.push(`${wanted === undefined ? `${port} -> ` : ""}${b.HostIp}:${b.HostPort}`);
    }
  }
  return lines;
}

/** `ps`'s PORTS column: `0.0.0.0:32768->80/tcp, 443/tcp`. */
export function psPorts(ports: PortMap | null | undefined): string {
  const parts: string[] = [];
  const keys = Object.keys(ports ?? {}).sort((a, b) => parseInt(a) - parseInt(b));
  for (const port of keys) {
    const bindings = (ports![port] ?? []).filter((b) => b.HostPort !== "");
    if (bindings.length === 0) parts.push(port);
    for (const b of bindings) parts.push(`${b.HostIp}:${b.HostPort}->${port}`);
  }
  return parts.join(", ");
}

/** What `run`/`create` ask: `-p`, `-P`, `--expose`. */
export interface PortsRequest {
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
}

/** The port fields of a container record, as Docker's inspect shows them. */
export interface PortFields {
  Config: { Image: string; ExposedPorts?: Record<string, Record<string, never>> };
  HostConfig: { NetworkMode: string; PortBindings?: PortMap; PublishAllPorts?: boolean };
  NetworkSettings?: { Ports?: PortMap; Networks: Record<string, { IPAddress: string }> };
}

/** What create keeps of a request. */
export interface PlannedPorts {
  /** `HostConfig.PortBindings`, as given. */
  bindings: PortMap;
  publishAll: boolean;
  /** `Config.ExposedPorts`: the image's, `--expose` and the published ones. */
  exposed: Record<string, Record<string, never>>;
}

/**
 * Reads a request at create.
 * @throws {InvalidError} a malformed `-p` or `--expose`
 */
export function planPorts(
  request: PortsRequest,
  imageExposed: Record<string, unknown> | null | undefined,
): PlannedPorts {
  const bindings = parsePublish(request.publish ?? []);
  const keys = [...Object.keys(imageExposed ?? {}), ...parseExpose(request.expose ?? [])];
  const exposed: Record<string, Record<string, never>> = {};
  for (const k of [...keys, ...Object.keys(bindings)]) exposed[k] = {};
  return { bindings, publishAll: request.publishAll ?? false, exposed };
}

/** The bindings a start publishes: `-p`, and `-P`'s exposed ports. */
export function startBindings(record: PortFields): PortMap {
  return portBindings(
    record.HostConfig.PortBindings ?? {},
    Object.keys(record.Config.ExposedPorts ?? {}),
    record.HostConfig.PublishAllPorts ?? false,
  );
}

/** Whether a start publishes anything. */
export function publishesPorts(record: PortFields): boolean {
  return Object.keys(startBindings(record)).length > 0;
}

/** Host ports other containers hold now (their `NetworkSettings.Ports`). */
export function portsTakenBy(records: readonly PortFields[]): Set<string> {
  return takenPorts(records.map((r) => r.NetworkSettings?.Ports));
}

/**
 * The forwards of every container that has chosen ports and an address on
 * a bridge network (an ended one has neither: its end clears them).
 */
export function natForwards(
  records: readonly PortFields[],
  bridgeOf: (network: string) => string | undefined,
): PortForward[] {
  const out: PortForward[] = [];
  for (const r of records) {
    const ports = r.NetworkSettings?.Ports;
    if (ports === undefined || Object.keys(ports).length === 0) continue;
    // Ports lead to the container's address on its primary network (the one that
    // gives it the default route, as Docker's gateway endpoint); another network's
    // address would only be a second rule that never matches.
    const networks = r.NetworkSettings!.Networks;
    const name = r.HostConfig.NetworkMode in networks
      ? r.HostConfig.NetworkMode
      : Object.keys(networks).find((n) => networks[n]!.IPAddress !== "");
    const bridge = name === undefined ? undefined : bridgeOf(name);
    if (name !== undefined && bridge !== undefined && networks[name]!.IPAddress !== "") {
      out.push(...forwardsOf(ports, networks[name]!.IPAddress, bridge));
    }
  }
  return out;
}
