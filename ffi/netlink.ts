/**
 * An rtnetlink client over an FFI socket (AF_NETLINK, NETLINK_ROUTE): links
 * (bridge, veth with its peer made straight in another network namespace),
 * link settings, IPv4 addresses and routes, without spawning `ip`.
 *
 * Requests are synchronous: each is sent with NLM_F_ACK and the reply read on
 * the calling thread, so a failure is a {@linkcode SyscallError} naming the
 * operation. A netlink socket acts in the network namespace it was created in
 * for its whole life; {@linkcode Rtnetlink.open} can create it in another.
 *
 * @module
 */
import { SyscallError } from "../lib/errors.ts";
import { closeFd } from "./fd.ts";
import { errnoName, errnoText, libc, syscallError } from "./libc.ts";
import { CLONE_NEWNET, nsType, openNs, setns } from "./ns.ts";

const AF_NETLINK = 16;
const NETLINK_ROUTE = 0;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const MSG_TRUNC = 0x20;
const AF_INET = 2;

const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP = 0x300;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLM_F_ACK_TLVS = 0x200;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSGERR_ATTR_MSG = 1;
const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_GETADDR = 22;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_GETROUTE = 26;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFF_UP = 0x1;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_NOWHERE = 255;
const RTN_UNICAST = 1;

/** How long a reply may take before the request fails (EAGAIN): the kernel answers at once. */
const RECV_TIMEOUT_SECONDS = 5n;
const RECV_BUFFER = 65536;

/** A link by name or by index. */
export type LinkRef = string | number;

/** One link, as RTM_GETLINK reports it. */
export interface LinkInfo {
  index: number;
  name: string;
  /** IFLA_INFO_KIND (`bridge`, `veth`, ...); absent for plain devices such as `lo`. */
  kind?: string;
  /** The index of the bridge this link is a port of. */
  master?: number;
  mtu?: number;
  /** The hardware address, `aa:bb:cc:dd:ee:ff`. */
  mac?: string;
  up: boolean;
}

/** One IPv4 address, as RTM_GETADDR reports it. */
export interface AddressInfo {
  index: number;
  address: string;
  prefixLength: number;
}

/** An IPv4 route to add or delete. */
export interface RouteSpec {
  /** The destination subnet (`10.1.0.0/24`); absent for the default route. */
  destination?: string;
  /** The next hop. */
  gateway?: string;
  /** The output device; a route without a gateway needs one. */
  link?: LinkRef;
  /** The preferred source address. */
  source?: string;
  metric?: number;
  /** @default 254 (main) */
  table?: number;
}

/** One IPv4 route, as RTM_GETROUTE reports it. */
export interface RouteInfo {
  /** `0.0.0.0/0` for the default route. */
  destination: string;
  gateway?: string;
  /** The output device's index. */
  oif?: number;
  table: number;
  scope: number;
  protocol: number;
  type: number;
}

interface Message {
  type: number;
  flags: number;
  seq: number;
  payload: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const align4 = (n: number) => (n + 3) & ~3;

/** One attribute (struct nlattr + payload, padded to 4 bytes). */
function attr(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(align4(4 + payload.length));
  const view = new DataView(out.buffer);
  view.setUint16(0, 4 + payload.length, true);
  view.setUint16(2, type, true);
  out.set(payload, 4);
  return out;
}

const nested = (type: number, ...children: Uint8Array[]) =>
  attr(type | NLA_F_NESTED, concat(children));
const attrString = (type: number, value: string) =>
  attr(type, concat([encoder.encode(value), new Uint8Array(1)]));
const attrU32 = (type: number, value: number) => attr(type, u32(value));

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

/** struct ifinfomsg (16 bytes). */
function ifinfomsg(index: number, flags = 0, change = 0): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setInt32(4, index, true);
  view.setUint32(8, flags, true);
  view.setUint32(12, change, true);
  return out;
}

/** Parses the attributes in `bytes` into a map by type (nested flags masked off). */
function parseAttrs(bytes: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 4 <= bytes.length) {
    const len = view.getUint16(at, true);
    if (len < 4 || at + len > bytes.length) break;
    out.set(view.getUint16(at + 2, true) & NLA_TYPE_MASK, bytes.subarray(at + 4, at + len));
    at += align4(len);
  }
  return out;
}

const readU32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
function readString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return decoder.decode(end < 0 ? b : b.subarray(0, end));
}

/**
 * Parses a dotted IPv4 address into its 4 bytes.
 * @throws {TypeError} when it is not one
 */
export function parseIPv4(address: string): Uint8Array {
  const parts = address.split(".");
  const bytes = parts.map((p) => /^\d{1,3}$/.test(p) ? Number(p) : 256);
  if (bytes.length !== 4 || bytes.some((b) => b > 255)) {
    throw new TypeError(`Invalid IPv4 address "${address}"`);
  }
  return new Uint8Array(bytes);
}

const formatIPv4 = (b: Uint8Array) => Array.from(b.subarray(0, 4)).join(".");

/** Parses `a.b.c.d/len` into the address bytes and the prefix length. */
function parseCidr(cidr: string): [Uint8Array, number] {
  const [address = "", length = "", ...rest] = cidr.split("/");
  const prefix = /^\d{1,2}$/.test(length) ? Number(length) : 33;
  if (rest.length > 0 || prefix > 32) throw new TypeError(`Invalid IPv4 subnet "${cidr}"`);
  return [parseIPv4(address), prefix];
}

function parseMac(mac: string): Uint8Array {
  const parts = mac.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new TypeError(`Invalid MAC address "${mac}"`);
  }
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

const formatMac = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");

/** The broadcast address of `address/prefix` (all host bits set). */
function broadcastOf(address: Uint8Array, prefix: number): Uint8Array {
  const host = prefix === 0 ? 0xffffffff : (0xffffffff >>> prefix);
  const value = (new DataView(address.buffer, address.byteOffset).getUint32(0) | host) >>> 0;
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** A socket opened through {@linkcode libc}'s socket(2), close-on-exec. */
function openSocket(): number {
  const fd = libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw syscallError("socket(AF_NETLINK)");
  return fd;
}

/** An rtnetlink socket and the requests berth makes on it. */
export class Rtnetlink {
  #fd: number;
  #seq = 0;
  #buf = new Uint8Array(RECV_BUFFER);

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Opens an rtnetlink socket in the calling thread's network namespace, or
   * in the one `netnsFd` refers to: the JS main thread joins it for the
   * socket(2) call and returns straight after, with no `await` between.
   * @throws {SyscallError}
   */
  static open(netnsFd?: number): Rtnetlink {
    let fd: number;
    if (netnsFd === undefined) {
      fd = openSocket();
    } else {
      if (nsType(netnsFd, "network namespace") !== CLONE_NEWNET) {
        throw new SyscallError("setns", 22, "EINVAL", errnoText(22), "not a network namespace");
      }
      const home = openNs("/proc/thread-self/ns/net");
      try {
        setns(netnsFd, CLONE_NEWNET, "network namespace");
        try {
          fd = openSocket();
        } finally {
          setns(home, CLONE_NEWNET, "/proc/thread-self/ns/net");
        }
      } finally {
        closeFd(home);
      }
    }
    const socket = new Rtnetlink(fd);
    socket.#configure();
    return socket;
  }

  /** Opens an rtnetlink socket in the network namespace at `path` (`/run/netns/NAME`, `/proc/PID/ns/net`). */
  static openAt(path: string): Rtnetlink {
    const fd = openNs(path);
    try {
      return Rtnetlink.open(fd);
    } finally {
      closeFd(fd);
    }
  }

  #configure(): void {
    const c = libc();
    const timeout = new BigInt64Array([RECV_TIMEOUT_SECONDS, 0n]);
    if (c.setsockopt(this.#fd, SOL_SOCKET, SO_RCVTIMEO, new Uint8Array(timeout.buffer), 16) !== 0) {
      const error = syscallError("setsockopt(SO_RCVTIMEO)");
      this.close();
      throw error;
    }
    // Best effort: the kernel's error text (EXT_ACK) and no echo of the request (CAP_ACK).
    const one = new Uint8Array(u32(1));
    c.setsockopt(this.#fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
    c.setsockopt(this.#fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4);
  }

  /** Closes the socket. */
  close(): void {
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Sends one request and returns the replies up to its ACK or NLMSG_DONE. */
  #request(op: string, what: string | undefined, type: number, flags: number, body: Uint8Array[]) {
    const c = libc();
    const seq = ++this.#seq;
    const msg = concat([new Uint8Array(16), ...body]);
    const view = new DataView(msg.buffer);
    view.setUint32(0, msg.length, true);
    view.setUint16(4, type, true);
    view.setUint16(6, NLM_F_REQUEST | NLM_F_ACK | flags, true);
    view.setUint32(8, seq, true);
    if (Number(c.send(this.#fd, msg, BigInt(msg.length), 0)) !== msg.length) {
      throw syscallError(`send(netlink ${op})`, what);
    }
    const replies: Message[] = [];
    for (;;) {
      const n = Number(c.recv(this.#fd, this.#buf, BigInt(this.#buf.length), MSG_TRUNC));
      if (n < 0) throw syscallError(`recv(netlink ${op})`, what);
      if (n > this.#buf.length) throw new RangeError(`A netlink reply to ${op} is over ${n} bytes`);
      for (const reply of splitMessages(this.#buf.subarray(0, n))) {
        if (reply.seq !== seq) continue;
        if (reply.type === NLMSG_DONE) return replies;
        if (reply.type === NLMSG_ERROR) {
          const code = -new DataView(reply.payload.buffer, reply.payload.byteOffset).getInt32(
            0,
            true,
          );
          if (code === 0) return replies;
          throw netlinkError(op, what, code, reply);
        }
        replies.push({ ...reply, payload: reply.payload.slice() });
      }
    }
  }

  /** The index of link `name`, or undefined when it does not exist. */
  linkIndex(name: string): number | undefined {
    try {
      const [reply] = this.#request("get link", name, RTM_GETLINK, 0, [
        ifinfomsg(0),
        attrString(IFLA_IFNAME, name),
      ]);
      return reply === undefined ? undefined : parseLink(reply.payload).index;
    } catch (error) {
      if (error instanceof SyscallError && error.code === "ENODEV") return undefined;
      throw error;
    }
  }

  /** The links in this namespace. */
  listLinks(): LinkInfo[] {
    return this.#request("list links", undefined, RTM_GETLINK, NLM_F_DUMP, [ifinfomsg(0)])
      .filter((m) => m.type === RTM_NEWLINK)
      .map((m) => parseLink(m.payload));
  }

  /** Creates a bridge device (down). */
  linkAddBridge(name: string): void {
    this.#request("add bridge", name, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, [
      ifinfomsg(0),
      attrString(IFLA_IFNAME, name),
      nested(IFLA_LINKINFO, attrString(IFLA_INFO_KIND, "bridge")),
    ]);
  }

  /**
   * Creates a veth pair: `name` here and `peer` (its name there) straight in
   * the network namespace `peerNsFd` refers to, or here when it is absent.
   */
  linkAddVeth(name: string, peer: string, peerNsFd?: number): void {
    const peerAttrs = [ifinfomsg(0), attrString(IFLA_IFNAME, peer)];
    if (peerNsFd !== undefined) peerAttrs.push(attrU32(IFLA_NET_NS_FD, peerNsFd));
    this.#request("add veth", name, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, [
      ifinfomsg(0),
      attrString(IFLA_IFNAME, name),
      nested(
        IFLA_LINKINFO,
        attrString(IFLA_INFO_KIND, "veth"),
        nested(IFLA_INFO_DATA, nested(VETH_INFO_PEER, ...peerAttrs)),
      ),
    ]);
  }

  /** Deletes a link (a veth takes its peer with it). */
  linkDelete(link: LinkRef): void {
    this.#setLink("delete link", link, [], RTM_DELLINK);
  }

  /** Sets a link up or down. */
  linkSetUp(link: LinkRef, up = true): void {
    this.#request(up ? "set link up" : "set link down", String(link), RTM_NEWLINK, 0, [
      ...this.#linkSelector(link, up ? IFF_UP : 0, IFF_UP),
    ]);
  }

  /** Makes a link a port of bridge `master`, or of none when it is null. */
  linkSetMaster(link: LinkRef, master: LinkRef | null): void {
    const index = master === null ? 0 : this.#index(master);
    this.#setLink("set master", link, [attrU32(IFLA_MASTER, index)]);
  }

  /** Sets a link's MTU. */
  linkSetMtu(link: LinkRef, mtu: number): void {
    this.#setLink("set mtu", link, [attrU32(IFLA_MTU, mtu)]);
  }

  /** Renames a link (the kernel refuses while it is up: EBUSY). */
  linkRename(link: LinkRef, name: string): void {
    const index = this.#index(link);
    this.#request("rename link", String(link), RTM_NEWLINK, 0, [
      ifinfomsg(index),
      attrString(IFLA_IFNAME, name),
    ]);
  }

  /** Sets a link's hardware address (`aa:bb:cc:dd:ee:ff`). */
  linkSetMac(link: LinkRef, mac: string): void {
    this.#setLink("set mac address", link, [attr(IFLA_ADDRESS, parseMac(mac))]);
  }

  /** Moves a link into the network namespace `nsFd` refers to. */
  linkSetNetns(link: LinkRef, nsFd: number): void {
    this.#setLink("set netns", link, [attrU32(IFLA_NET_NS_FD, nsFd)]);
  }

  /** Adds `address/prefixLength` to a link, with its broadcast address below /31. */
  addressAdd(link: LinkRef, address: string, prefixLength: number): void {
    this.#address(RTM_NEWADDR, "add address", link, address, prefixLength);
  }

  /** Removes `address/prefixLength` from a link. */
  addressDelete(link: LinkRef, address: string, prefixLength: number): void {
    this.#address(RTM_DELADDR, "delete address", link, address, prefixLength);
  }

  /** The IPv4 addresses in this namespace, of one link or of all. */
  listAddresses(link?: LinkRef): AddressInfo[] {
    const index = link === undefined ? undefined : this.#index(link);
    const header = new Uint8Array(8);
    header[0] = AF_INET;
    return this.#request("list addresses", undefined, RTM_GETADDR, NLM_F_DUMP, [header])
      .filter((m) => m.type === RTM_NEWADDR)
      .map((m) => parseAddress(m.payload))
      .filter((a) => index === undefined || a.index === index);
  }

  /** Adds an IPv4 route: the default route via a gateway, or a subnet on a device. */
  routeAdd(route: RouteSpec): void {
    this.#route(RTM_NEWROUTE, "add route", route);
  }

  /** Deletes an IPv4 route. */
  routeDelete(route: RouteSpec): void {
    this.#route(RTM_DELROUTE, "delete route", route);
  }

  /** The IPv4 routes in this namespace, of table `table` or of all. */
  listRoutes(table: number | undefined = RT_TABLE_MAIN): RouteInfo[] {
    const header = new Uint8Array(12);
    header[0] = AF_INET;
    return this.#request("list routes", undefined, RTM_GETROUTE, NLM_F_DUMP, [header])
      .filter((m) => m.type === RTM_NEWROUTE)
      .map((m) => parseRoute(m.payload))
      .filter((r) => table === undefined || r.table === table);
  }

  #index(link: LinkRef): number {
    if (typeof link === "number") return link;
    const index = this.linkIndex(link);
    if (index === undefined) {
      throw new SyscallError("netlink(get link)", 19, "ENODEV", errnoText(19), link);
    }
    return index;
  }

  /** An ifinfomsg that names the link: by index, or index 0 and IFLA_IFNAME. */
  #linkSelector(link: LinkRef, flags = 0, change = 0): Uint8Array[] {
    return typeof link === "number"
      ? [ifinfomsg(link, flags, change)]
      : [ifinfomsg(0, flags, change), attrString(IFLA_IFNAME, link)];
  }

  #setLink(op: string, link: LinkRef, attrs: Uint8Array[], type = RTM_NEWLINK): void {
    this.#request(op, String(link), type, 0, [...this.#linkSelector(link), ...attrs]);
  }

  #address(type: number, op: string, link: LinkRef, address: string, prefix: number): void {
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
      throw new RangeError(`Invalid prefix length ${prefix}`);
    }
    const bytes = parseIPv4(address);
    const header = new Uint8Array(8);
    header[0] = AF_INET;
    header[1] = prefix;
    new DataView(header.buffer).setUint32(4, this.#index(link), true);
    const attrs: Uint8Array[] = [header, attr(IFA_LOCAL, bytes), attr(IFA_ADDRESS, bytes)];
    if (type === RTM_NEWADDR && prefix < 31) {
      attrs.push(attr(IFA_BROADCAST, broadcastOf(bytes, prefix)));
    }
    const flags = type === RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0;
    this.#request(op, `${address}/${prefix} on ${link}`, type, flags, attrs);
  }

  #route(type: number, op: string, route: RouteSpec): void {
    const [dst, dstLen] = route.destination === undefined
      ? [undefined, 0]
      : parseCidr(route.destination);
    const table = route.table ?? RT_TABLE_MAIN;
    const header = new Uint8Array(12);
    header[0] = AF_INET;
    header[1] = dstLen;
    header[4] = table < 256 ? table : 0;
    if (type === RTM_NEWROUTE) {
      header[5] = RTPROT_BOOT;
      header[6] = route.gateway === undefined ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
      header[7] = RTN_UNICAST;
    } else {
      header[6] = RT_SCOPE_NOWHERE;
    }
    const attrs: Uint8Array[] = [header];
    if (table >= 256) attrs.push(attrU32(RTA_TABLE, table));
    if (dst !== undefined) attrs.push(attr(RTA_DST, dst));
    if (route.gateway !== undefined) attrs.push(attr(RTA_GATEWAY, parseIPv4(route.gateway)));
    if (route.link !== undefined) attrs.push(attrU32(RTA_OIF, this.#index(route.link)));
    if (route.source !== undefined) attrs.push(attr(RTA_PREFSRC, parseIPv4(route.source)));
    if (route.metric !== undefined) attrs.push(attrU32(RTA_PRIORITY, route.metric));
    const flags = type === RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0;
    const what = `${route.destination ?? "default"}${route.gateway ? ` via ${route.gateway}` : ""}`;
    this.#request(op, what, type, flags, attrs);
  }
}

/** Splits a datagram into its netlink messages. */
function splitMessages(bytes: Uint8Array): Message[] {
  const out: Message[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 16 <= bytes.length) {
    const len = view.getUint32(at, true);
    if (len < 16 || at + len > bytes.length) break;
    out.push({
      type: view.getUint16(at + 4, true),
      flags: view.getUint16(at + 6, true),
      seq: view.getUint32(at + 8, true),
      payload: bytes.subarray(at + 16, at + len),
    });
    at += align4(len);
  }
  return out;
}

/** The SyscallError for an nlmsgerr, with the kernel's extended-ACK text when it sent one. */
function netlinkError(op: string, what: string | undefined, code: number, reply: Message) {
  let text = errnoText(code);
  if (reply.flags & NLM_F_ACK_TLVS) {
    // With NETLINK_CAP_ACK the echoed request is its 16-byte header only.
    const message = parseAttrs(reply.payload.subarray(20)).get(NLMSGERR_ATTR_MSG);
    if (message !== undefined) text = `${text}: ${readString(message)}`;
  }
  return new SyscallError(`netlink(${op})`, code, errnoName(code), text, what);
}

function parseLink(payload: Uint8Array): LinkInfo {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const attrs = parseAttrs(payload.subarray(16));
  const info: LinkInfo = {
    index: view.getInt32(4, true),
    name: readString(attrs.get(IFLA_IFNAME) ?? new Uint8Array(1)),
    up: (view.getUint32(8, true) & IFF_UP) !== 0,
  };
  const linkinfo = attrs.get(IFLA_LINKINFO);
  const kind = linkinfo === undefined ? undefined : parseAttrs(linkinfo).get(IFLA_INFO_KIND);
  if (kind !== undefined) info.kind = readString(kind);
  const master = attrs.get(IFLA_MASTER);
  if (master !== undefined) info.master = readU32(master);
  const mtu = attrs.get(IFLA_MTU);
  if (mtu !== undefined) info.mtu = readU32(mtu);
  const mac = attrs.get(IFLA_ADDRESS);
  if (mac !== undefined && mac.length === 6) info.mac = formatMac(mac);
  return info;
}

function parseAddress(payload: Uint8Array): AddressInfo {
  const attrs = parseAttrs(payload.subarray(8));
  const local = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS) ?? new Uint8Array(4);
  return {
    index: new DataView(payload.buffer, payload.byteOffset).getUint32(4, true),
    address: formatIPv4(local),
    prefixLength: payload[1]!,
  };
}

function parseRoute(payload: Uint8Array): RouteInfo {
  const attrs = parseAttrs(payload.subarray(12));
  const dst = attrs.get(RTA_DST);
  const table = attrs.get(RTA_TABLE);
  const info: RouteInfo = {
    destination: `${dst === undefined ? "0.0.0.0" : formatIPv4(dst)}/${payload[1]}`,
    table: table === undefined ? payload[4]! : readU32(table),
    protocol: payload[5]!,
    scope: payload[6]!,
    type: payload[7]!,
  };
  const gateway = attrs.get(RTA_GATEWAY);
  if (gateway !== undefined) info.gateway = formatIPv4(gateway);
  const oif = attrs.get(RTA_OIF);
  if (oif !== undefined) info.oif = readU32(oif);
  return info;
}
