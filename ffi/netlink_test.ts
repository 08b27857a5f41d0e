/**
 * Tests of the rtnetlink client, as root: every request runs in scratch
 * network namespaces (`ip netns add`) that are removed afterwards, and its
 * result is checked with `ip -j ... show` inside them. The machine's own
 * namespace is never touched. `BERTH_TEST_NETNS_PREFIX` names the scratch
 * namespaces (default `berth-test-`).
 */
import assert from "node:assert/strict";
import { SyscallError } from "../lib/errors.ts";
import { closeFd } from "./fd.ts";
import { Rtnetlink } from "./netlink.ts";
import { openNs } from "./ns.ts";

const PREFIX = Deno.env.get("BERTH_TEST_NETNS_PREFIX") ?? "berth-test-";
const isRoot = Deno.uid() === 0;
let counter = 0;

async function ip(args: string[]): Promise<string> {
  const out = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return text;
}

/** `ip -j ARGS` run inside netns `ns`, parsed. */
// deno-lint-ignore no-explicit-any
async function ipJson(ns: string, args: string[]): Promise<any[]> {
  return JSON.parse(await ip(["-n", ns, "-j", ...args]) || "[]");
}

/** Runs `fn` with `count` fresh network namespaces (names, open fds), removing them after. */
async function withNamespaces(
  count: number,
  fn: (names: string[], fds: number[]) => Promise<void>,
): Promise<void> {
  const names: string[] = [];
  const fds: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const name = `${PREFIX}nl${Deno.pid}-${counter++}`;
      await ip(["netns", "add", name]);
      names.push(name);
      fds.push(openNs(`/run/netns/${name}`));
    }
    await fn(names, fds);
  } finally {
    for (const fd of fds) closeFd(fd);
    for (const name of names) await ip(["netns", "delete", name]).catch(() => {});
  }
}

const netnsOfThread = () => Deno.readLinkSync("/proc/thread-self/ns/net");

Deno.test({
  name: "Rtnetlink.linkAddVeth() creates the peer straight in another namespace, by name there",
  ignore: !isRoot,
  fn: () =>
    withNamespaces(2, async ([host, ctr], [hostFd, ctrFd]) => {
      const before = netnsOfThread();
      using nl = Rtnetlink.open(hostFd!);
      assert.equal(netnsOfThread(), before);
      nl.linkAddBridge("br-t0");
      nl.linkAddVeth("veth-t0", "eth0", ctrFd!);
      const links = await ipJson(host!, ["-d", "link", "show"]);
      const veth = links.find((l) => l.ifname === "veth-t0");
      assert.equal(veth?.linkinfo?.info_kind, "veth");
      assert.equal(links.find((l) => l.ifname === "br-t0")?.linkinfo?.info_kind, "bridge");
      const inCtr = await ipJson(ctr!, ["-d", "link", "show", "eth0"]);
      assert.equal(inCtr[0]?.linkinfo?.info_kind, "veth");
      assert.equal(inCtr[0]?.link_index, veth.ifindex);
      // The process's own namespace got neither link.
      const own = Rtnetlink.open();
      try {
        assert.equal(own.linkIndex("veth-t0"), undefined);
        assert.equal(own.linkIndex("br-t0"), undefined);
      } finally {
        own.close();
      }
    }),
});

Deno.test({
  name: "Rtnetlink link setters set up/down, master, MTU, MAC and name, as ip shows them",
  ignore: !isRoot,
  fn: () =>
    withNamespaces(1, async ([ns], [fd]) => {
      using nl = Rtnetlink.open(fd!);
      nl.linkAddBridge("br-t1");
      nl.linkAddVeth("va", "vb");
      nl.linkSetMaster("va", "br-t1");
      nl.linkSetMtu("va", 1400);
      nl.linkSetMac("va", "02:42:ac:11:00:07");
      nl.linkSetUp("br-t1");
      nl.linkSetUp(nl.linkIndex("va")!);
      let [va] = await ipJson(ns!, ["link", "show", "va"]);
      assert.equal(va.master, "br-t1");
      assert.equal(va.mtu, 1400);
      assert.equal(va.address, "02:42:ac:11:00:07");
      assert.ok(va.flags.includes("UP"));
      nl.linkSetUp("va", false);
      nl.linkSetMaster("va", null);
      nl.linkRename("va", "renamed0");
      [va] = await ipJson(ns!, ["link", "show", "renamed0"]);
      assert.equal(va.master, undefined);
      assert.ok(!va.flags.includes("UP"));
      assert.equal(nl.linkIndex("va"), undefined);
      assert.equal(nl.linkIndex("renamed0"), va.ifindex);
      const listed = nl.listLinks();
      const byName = new Map(listed.map((l) => [l.name, l]));
      assert.deepEqual([...byName.keys()].sort(), ["br-t1", "lo", "renamed0", "vb"]);
      assert.equal(byName.get("renamed0")?.kind, "veth");
      assert.equal(byName.get("br-t1")?.kind, "bridge");
      assert.equal(byName.get("lo")?.kind, undefined);
      assert.equal(byName.get("renamed0")?.mac, "02:42:ac:11:00:07");
      assert.equal(byName.get("br-t1")?.up, true);
    }),
});

Deno.test({
  name: "Rtnetlink addresses and routes are added and removed, as ip shows them",
  ignore: !isRoot,
  fn: () =>
    withNamespaces(2, async ([host, ctr], [hostFd, ctrFd]) => {
      using nl = Rtnetlink.open(hostFd!);
      nl.linkAddBridge("br-t2");
      nl.linkAddVeth("veth-t2", "eth0", ctrFd!);
      nl.linkSetMaster("veth-t2", "br-t2");
      nl.addressAdd("br-t2", "10.213.0.1", 16);
      nl.linkSetUp("br-t2");
      nl.linkSetUp("veth-t2");
      using inCtr = Rtnetlink.open(ctrFd!);
      inCtr.addressAdd("eth0", "10.213.0.5", 16);
      inCtr.linkSetUp("lo");
      inCtr.linkSetUp("eth0");
      inCtr.routeAdd({ gateway: "10.213.0.1" });
      inCtr.routeAdd({ destination: "10.214.1.0/24", link: "eth0" });
      const [eth0] = await ipJson(ctr!, ["addr", "show", "eth0"]);
      const inet = eth0.addr_info.filter((a: { family: string }) => a.family === "inet");
      assert.deepEqual(
        inet.map((a: { local: string; prefixlen: number; broadcast: string }) => [
          a.local,
          a.prefixlen,
          a.broadcast,
        ]),
        [["10.213.0.5", 16, "10.213.255.255"]],
      );
      const routes = await ipJson(ctr!, ["route", "show"]);
      const find = (dst: string) => routes.find((r) => r.dst === dst);
      assert.equal(find("default")?.gateway, "10.213.0.1");
      assert.equal(find("default")?.dev, "eth0");
      assert.equal(find("10.214.1.0/24")?.dev, "eth0");
      assert.equal(find("10.214.1.0/24")?.scope, "link");
      const listed = inCtr.listRoutes();
      assert.ok(listed.some((r) => r.destination === "0.0.0.0/0" && r.gateway === "10.213.0.1"));
      assert.ok(listed.some((r) => r.destination === "10.214.1.0/24" && r.oif === eth0.ifindex));
      assert.deepEqual(inCtr.listAddresses("eth0").map((a) => [a.address, a.prefixLength]), [[
        "10.213.0.5",
        16,
      ]]);
      // The bridge reaches the container over the veth: the links really work.
      await ip(["netns", "exec", host!, "busybox", "ping", "-c1", "-W2", "10.213.0.5"]);

      inCtr.routeDelete({ destination: "10.214.1.0/24", link: "eth0" });
      inCtr.routeDelete({ gateway: "10.213.0.1" });
      inCtr.addressDelete("eth0", "10.213.0.5", 16);
      assert.deepEqual(await ipJson(ctr!, ["route", "show"]), []);
      const [after] = await ipJson(ctr!, ["addr", "show", "eth0"]);
      assert.ok(!after.addr_info.some((a: { family: string }) => a.family === "inet"));
      assert.deepEqual(inCtr.listRoutes(), []);
    }),
});

Deno.test({
  name: "Rtnetlink.linkDelete() removes a veth and its peer in the other namespace",
  ignore: !isRoot,
  fn: () =>
    withNamespaces(2, async ([host, ctr], [hostFd, ctrFd]) => {
      using nl = Rtnetlink.open(hostFd!);
      nl.linkAddVeth("veth-t3", "eth0", ctrFd!);
      nl.linkAddBridge("br-t3");
      nl.linkDelete("veth-t3");
      nl.linkDelete(nl.linkIndex("br-t3")!);
      const names = (await ipJson(host!, ["link", "show"])).map((l) => l.ifname);
      assert.deepEqual(names, ["lo"]);
      assert.deepEqual((await ipJson(ctr!, ["link", "show"])).map((l) => l.ifname), ["lo"]);
    }),
});

Deno.test({
  name: "Rtnetlink.linkSetNetns() moves a link into another namespace",
  ignore: !isRoot,
  fn: () =>
    withNamespaces(2, async ([, ctr], [hostFd, ctrFd]) => {
      using nl = Rtnetlink.open(hostFd!);
      nl.linkAddVeth("va", "vb");
      nl.linkSetNetns("vb", ctrFd!);
      assert.equal(nl.linkIndex("vb"), undefined);
      assert.equal((await ipJson(ctr!, ["link", "show", "vb"])).length, 1);
    }),
});

Deno.test({
  name: "Rtnetlink requests that the kernel refuses throw a SyscallError naming the operation",
  ignore: !isRoot,
  fn: () =>
    withNamespaces(1, async (_names, [fd]) => {
      using nl = Rtnetlink.open(fd!);
      nl.linkAddBridge("br-t4");
      assert.throws(() => nl.linkAddBridge("br-t4"), (e: unknown) => {
        assert.ok(e instanceof SyscallError);
        assert.equal(e.code, "EEXIST");
        assert.match(e.message, /^netlink\(add bridge\) "br-t4": EEXIST/);
        return true;
      });
      assert.throws(() => nl.linkSetUp("missing0"), (e: unknown) => {
        assert.ok(e instanceof SyscallError);
        assert.equal(e.code, "ENODEV");
        assert.match(e.message, /set link up\) "missing0"/);
        return true;
      });
      assert.throws(() => nl.addressAdd("missing0", "10.1.0.1", 24), /ENODEV/);
      assert.throws(() => nl.routeAdd({ gateway: "10.9.9.1" }), (e: unknown) => {
        assert.ok(e instanceof SyscallError);
        assert.equal(e.code, "ENETUNREACH");
        assert.match(e.message, /netlink\(add route\) "default via 10.9.9.1"/);
        return true;
      });
      assert.throws(() => nl.addressAdd("br-t4", "10.1.0.300", 24), TypeError);
      assert.throws(() => nl.linkSetMac("br-t4", "02:42"), TypeError);
      // The socket still works after the refusals.
      nl.addressAdd("br-t4", "10.1.0.1", 24);
      assert.deepEqual(nl.listAddresses("br-t4").map((a) => a.address), ["10.1.0.1"]);
      await Promise.resolve();
    }),
});

Deno.test({
  name: "Rtnetlink.open() refuses a namespace fd that is not a network namespace",
  ignore: !isRoot,
  fn: () => {
    const before = netnsOfThread();
    const uts = openNs("/proc/thread-self/ns/uts");
    try {
      assert.throws(() => Rtnetlink.open(uts), SyscallError);
    } finally {
      closeFd(uts);
    }
    assert.equal(netnsOfThread(), before);
  },
});
