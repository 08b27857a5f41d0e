import assert from "node:assert/strict";
import { ConflictError, InvalidError } from "../../errors.ts";
import { planNetwork, planPredefined } from "./create.ts";
import { allocateIn, releaseIn } from "./ipam.ts";
import type { NetworkRecord } from "./record.ts";

function net(options: Parameters<typeof planNetwork>[1]): NetworkRecord {
  return planNetwork("n", options, planPredefined([], []), []);
}

Deno.test("allocateIn() hands out the lowest free address, never network, gateway or broadcast", () => {
  const n = net({ subnets: ["10.5.0.0/29"] });
  const got = ["c1", "c2", "c3", "c4", "c5"].map((c) => allocateIn(n, c).IPv4Address);
  // .0 network, .1 gateway, .7 broadcast: five hosts are left.
  assert.deepEqual(got, [
    "10.5.0.2/29",
    "10.5.0.3/29",
    "10.5.0.4/29",
    "10.5.0.5/29",
    "10.5.0.6/29",
  ]);
  assert.throws(() => allocateIn(n, "c6"), (e: Error) => {
    assert.ok(e instanceof ConflictError);
    assert.equal(
      e.message,
      `no available IPv4 addresses on this network's address pools: n (${n.Id})`,
    );
    return true;
  });
  assert.equal(releaseIn(n, "c2"), true);
  assert.equal(releaseIn(n, "c2"), false);
  assert.equal(allocateIn(n, "c6").IPv4Address, "10.5.0.3/29");
  assert.equal(allocateIn(n, "c1").IPv4Address, "10.5.0.2/29", "joining again keeps the lease");
});

Deno.test("allocateIn() gives a MAC from the address and the container's name", () => {
  const n = net({ subnets: ["10.5.0.0/24"], gateways: ["10.5.0.2"] });
  const ep = allocateIn(n, "c1", { name: "web" });
  assert.equal(ep.IPv4Address, "10.5.0.1/24");
  assert.equal(ep.MacAddress, "02:42:0a:05:00:01");
  assert.equal(ep.Name, "web");
  assert.match(ep.EndpointID, /^[0-9a-f]{64}$/);
  assert.deepEqual(n.Containers.c1, ep);
});

Deno.test("allocateIn() stays inside the ip-range", () => {
  const n = net({ subnets: ["10.5.0.0/16"], ipRanges: ["10.5.3.0/30"] });
  assert.equal(n.IPAM.Config[0]!.Gateway, "10.5.3.0");
  assert.deepEqual(["a", "b", "c"].map((c) => allocateIn(n, c).IPv4Address), [
    "10.5.3.1/16",
    "10.5.3.2/16",
    "10.5.3.3/16",
  ]);
  assert.throws(() => allocateIn(n, "d"), ConflictError);
  // --ip may still name any address of the subnet, as in Docker.
  assert.equal(allocateIn(n, "e", { ip: "10.5.200.9" }).IPv4Address, "10.5.200.9/16");
});

Deno.test("allocateIn() checks --ip as Docker does", () => {
  const n = net({ subnets: ["10.5.0.0/24"] });
  assert.equal(allocateIn(n, "a", { ip: "10.5.0.77" }).IPv4Address, "10.5.0.77/24");
  const cases: [string, typeof InvalidError, string][] = [
    ["10.5.0.77", ConflictError, "Address already in use"],
    ["10.5.0.1", ConflictError, "Address already in use"],
    ["10.5.0.255", ConflictError, "Address already in use"],
    [
      "10.6.0.5",
      InvalidError,
      "Invalid address 10.6.0.5: It does not belong to any of this network's subnets",
    ],
    ["10.5.0", InvalidError, "invalid IPv4 address: 10.5.0"],
  ];
  for (const [ip, cls, message] of cases) {
    assert.throws(() => allocateIn(n, "b", { ip }), (e: Error) => {
      assert.ok(e instanceof cls, ip);
      assert.equal(e.message, message);
      return true;
    });
  }
  assert.equal(n.Containers.b, undefined, "a refused lease leaves nothing");
  const auto = planNetwork("auto", {}, [], []);
  assert.throws(
    () => allocateIn(auto, "a", { ip: "10.89.0.9" }),
    /supported only when connecting to networks with user configured subnets/,
  );
  const [bridge, host] = planPredefined([], []);
  assert.throws(
    () => allocateIn(bridge!, "a", { ip: "10.89.0.9" }),
    /on user defined networks only/,
  );
  assert.equal(allocateIn(bridge!, "a").IPv4Address, "10.89.0.2/16");
  assert.equal(allocateIn(host!, "a").IPv4Address, "");
});
