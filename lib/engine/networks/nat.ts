/**
 * Outbound NAT and isolation of bridge networks with nftables, as Docker's
 * iptables rules do: one table, `ip berth`, holds every rule berth makes, so
 * it is removed at once. The table is a function of the network records
 * alone and is replaced whole, in one `nft -f -` transaction, whenever it
 * may have changed (a container joins a network, a network goes): nothing
 * per container is kept, so a killed start leaves no stale rule and the
 * next apply is the cleanup.
 *
 * - masquerade: traffic from a network's subnet that leaves through another
 *   interface than its bridge (not for `--internal` networks);
 * - `--internal`: nothing is forwarded off or onto its bridge;
 * - isolation: nothing is forwarded from one berth bridge to another.
 *
 * - published ports (`-p`, `-P`), from the running containers' records:
 *   prerouting DNAT of traffic to a local address, output DNAT of the
 *   host's own connections, and masquerade of those from 127.0.0.0/8 onto
 *   the bridge with `net.ipv4.conf.all.route_localnet=1`, which is
 *   Docker's `--userland-proxy=false` path (no proxy process), plus
 *   hairpin masquerade of a container reaching its own published port.
 *
 * `net.ipv4.ip_forward` is turned on, in the network namespace berth runs
 * in, only when some non-internal network exists.
 *
 * @module
 */
import { writeFileAtomic } from "../../store/tmp.ts";
import type { NetworkRecord } from "./record.ts";

/** One published port: a host port forwarded to a container's address and port. */
export interface PortForward {
  proto: string;
  /** `0.0.0.0` for every local address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
  /** The bridge the container is on. */
  bridge: string;
}

const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;
const PROTO_RE = /^(tcp|udp|sctp)$/;

function dnatRule(f: PortForward): string {
  if (!IPV4_RE.test(f.containerIp) || !PROTO_RE.test(f.proto)) {
    throw new Error(`bad port forward ${JSON.stringify(f)}`);
  }
  const daddr = f.hostIp === "0.0.0.0" || f.hostIp === "" ? "" : `ip daddr ${f.hostIp} `;
  if (daddr !== "" && !IPV4_RE.test(f.hostIp)) throw new Error(`bad host address ${f.hostIp}`);
  return `    ${daddr}fib daddr type local ${f.proto} dport ${f.hostPort | 0} ` +
    `dnat to ${f.containerIp}:${f.containerPort | 0}`;
}

/** The nftables table (family ip) that holds all of berth's rules. */
export const NAT_TABLE = "berth";

function quote(name: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(name)) throw new Error(`bad interface name ${name}`);
  return `"${name}"`;
}

/** The bridge networks that get rules: the driver is bridge and there is a bridge name. */
function bridged(networks: readonly NetworkRecord[]): NetworkRecord[] {
  return networks.filter((n) => n.Driver === "bridge" && n.Berth.bridge !== "")
    // Plain code-unit order: localeCompare would first build an ICU collator (~10 ms a start).
    .sort((a, b) => a.Berth.bridge < b.Berth.bridge ? -1 : a.Berth.bridge > b.Berth.bridge ? 1 : 0);
}

/**
 * The nft script that replaces the berth table with the rules for these
 * networks (or only deletes it when none is left). `add table` first makes
 * the `delete` safe when the table does not exist yet.
 */
export function natScript(
  networks: readonly NetworkRecord[],
  forwards: readonly PortForward[] = [],
): string {
  const nets = bridged(networks);
  const lines = [`add table ip ${NAT_TABLE}`, `delete table ip ${NAT_TABLE}`];
  if (nets.length === 0) return lines.join("\n") + "\n";
  const bridges = new Set(nets.map((n) => n.Berth.bridge));
  const fwd = forwards.filter((f) => f.hostIp.includes(".") && bridges.has(f.bridge));
  const all = nets.map((n) => quote(n.Berth.bridge)).join(", ");
  lines.push(`table ip ${NAT_TABLE} {`);
  if (fwd.length > 0) {
    lines.push("  chain prerouting {");
    lines.push("    type nat hook prerouting priority dstnat; policy accept;");
    for (const f of fwd) lines.push(dnatRule(f));
    lines.push("  }");
    lines.push("  chain output {");
    lines.push("    type nat hook output priority -100; policy accept;");
    for (const f of fwd) lines.push(dnatRule(f));
    lines.push("  }");
  }
  lines.push("  chain postrouting {");
  lines.push("    type nat hook postrouting priority srcnat; policy accept;");
  for (const br of [...new Set(fwd.map((f) => f.bridge))].sort()) {
    lines.push(`    ip saddr 127.0.0.0/8 oifname ${quote(br)} masquerade`);
  }
  for (const f of fwd) {
    lines.push(
      `    ip saddr ${f.containerIp} ip daddr ${f.containerIp} ${f.proto} dport ` +
        `${f.containerPort | 0} masquerade`,
    );
  }
  for (const n of nets) {
    if (n.Internal) continue;
    for (const c of n.IPAM.Config) {
      if (c.Subnet.includes(":")) continue;
      lines.push(`    ip saddr ${c.Subnet} oifname != ${quote(n.Berth.bridge)} masquerade`);
    }
  }
  lines.push("  }");
  lines.push("  chain forward {");
  lines.push("    type filter hook forward priority filter; policy accept;");
  for (const n of nets) {
    const br = quote(n.Berth.bridge);
    if (n.Internal) {
      lines.push(`    iifname ${br} oifname != ${br} drop`);
      lines.push(`    oifname ${br} iifname != ${br} drop`);
    } else {
      lines.push(`    iifname ${br} oifname != ${br} oifname { ${all} } drop`);
    }
  }
  lines.push("  }");
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** Whether some network needs forwarding (a non-internal bridge network). */
export function needsForwarding(networks: readonly NetworkRecord[]): boolean {
  return bridged(networks).some((n) => !n.Internal);
}

/** The failure of an `nft` run. */
export class NftError extends Error {}

/** Runs `nft -f -` with the script on its stdin. @throws {NftError} */
export async function nftApply(script: string, nft = "nft"): Promise<void> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(nft, {
      args: ["-f", "-"],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new NftError(`cannot run ${nft}: ${(error as Error).message}`);
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new NftError(`nft: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/**
 * Makes the berth table match the networks and the published ports, and
 * turns forwarding on when a network needs it and route_localnet when a
 * port is published (never off: something else may rely on them).
 *
 * With `state`, the table is applied only when it would change: the last
 * script applied is kept in `state.path` together with the boot and the
 * network namespace it went into, so most starts (a container without
 * ports on a network that exists) spawn no `nft`; a reboot or another
 * namespace applies again. Callers serialize around reading the records
 * and applying (one lock), or an older table could win.
 * @throws {NftError}
 */
export async function applyNat(
  networks: readonly NetworkRecord[],
  forwards: readonly PortForward[] = [],
  state?: { path: string; tmpDir: string },
): Promise<void> {
  const script = natScript(networks, forwards);
  if (state === undefined) {
    await nftApply(script);
  } else {
    const applied = `${appliedIn()}\n${script}`;
    let last: string | undefined;
    try {
      last = Deno.readTextFileSync(state.path);
    } catch {
      // never applied from this root
    }
    if (last !== applied) {
      if (last !== undefined) Deno.removeSync(state.path); // a failed apply is retried
      await nftApply(script);
      writeFileAtomic(state.path, applied, state.tmpDir);
    }
  }
  if (needsForwarding(networks)) setSysctl("/proc/sys/net/ipv4/ip_forward");
  if (forwards.length > 0) setSysctl("/proc/sys/net/ipv4/conf/all/route_localnet");
}

/** This boot and this network namespace: where an applied table lives. */
function appliedIn(): string {
  const boot = Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim();
  return `boot ${boot} netns ${Deno.statSync("/proc/self/ns/net").ino}`;
}

function setSysctl(path: string): void {
  if (Deno.readTextFileSync(path).trim() !== "1") Deno.writeTextFileSync(path, "1\n");
}
