import assert from "node:assert/strict";
import { ConflictError, InvalidError, NotFoundError } from "../../errors.ts";
import { freeSubnet, ipamConfigs, planNetwork, planPredefined } from "./create.ts";
import { formatCidr, parseCidr } from "./ipv4.ts";
import type { NetworkRecord } from "./record.ts";

function refused(fn: () => unknown, cls: typeof InvalidError, message: string): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof cls, `${e.constructor.name}: ${e.message}`);
    assert.equal(e.message, message);
    return true;
  });
}

Deno.test("ipamConfigs() fills the gateway and keeps the ip-range", () => {
  assert.deepEqual(ipamConfigs({ subnets: ["10.5.0.0/16"] }), [
    { Subnet: "10.5.0.0/16", Gateway: "10.5.0.1" },
  ]);
  assert.deepEqual(
    ipamConfigs({ subnets: ["10.5.0.0/16"], ipRanges: ["10.5.8.0/24"], gateways: ["10.5.0.254"] }),
    [{ Subnet: "10.5.0.0/16", IPRange: "10.5.8.0/24", Gateway: "10.5.0.254" }],
  );
  assert.deepEqual(ipamConfigs({ subnets: ["10.5.0.0/16"], ipRanges: ["10.5.8.0/24"] }), [
    { Subnet: "10.5.0.0/16", IPRange: "10.5.8.0/24", Gateway: "10.5.8.0" },
  ]);
  assert.deepEqual(ipamConfigs({}), []);
});

Deno.test("ipamConfigs() refuses bad input with Docker's messages", () => {
  refused(
    () => ipamConfigs({ gateways: ["10.0.0.1"] }),
    InvalidError,
    "every ip-range or gateway must have a corresponding subnet",
  );
  refused(
    () => ipamConfigs({ subnets: ["10.5.0.0/16"], gateways: ["10.6.0.1"] }),
    InvalidError,
    "no matching subnet for gateway 10.6.0.1",
  );
  refused(
    () => ipamConfigs({ subnets: ["10.5.0.0/16"], gateways: ["nope"] }),
    InvalidError,
    "no matching subnet for gateway nope",
  );
  refused(
    () => ipamConfigs({ subnets: ["10.5.0.0/16"], ipRanges: ["10.7.0.0/24"] }),
    InvalidError,
    "no matching subnet for range 10.7.0.0/24",
  );
  refused(
    () => ipamConfigs({ subnets: ["10.5.0.0/16", "10.5.1.0/24"] }),
    InvalidError,
    "multiple overlapping subnet configuration is not allowed",
  );
  refused(
    () => ipamConfigs({ subnets: ["10.5.0.0/33"] }),
    InvalidError,
    "invalid subnet 10.5.0.0/33: invalid CIDR block notation",
  );
  refused(
    () => ipamConfigs({ subnets: ["10.5.0.0/24"], ipRanges: ["10.5.0.0/16"] }),
    InvalidError,
    "invalid ip-range 10.5.0.0/16: CIDR block is bigger than its parent subnet 10.5.0.0/24",
  );
  assert.throws(() => ipamConfigs({ subnets: ["10.5.0.0/24"], gateways: ["10.5.0.255"] }), {
    name: InvalidError.name,
  });
  assert.throws(() => ipamConfigs({ subnets: ["10.5.0.4/31"] }), /too small/);
});

const routes = [parseCidr("192.0.2.0/24"), parseCidr("10.89.0.0/16")];

Deno.test("planPredefined() makes bridge, host and none; bridge avoids the host's routes", () => {
  const made = planPredefined([], routes);
  assert.deepEqual(made.map((r) => [r.Name, r.Driver]), [
    ["bridge", "bridge"],
    ["host", "host"],
    ["none", "null"],
  ]);
  assert.deepEqual(made[0]!.IPAM.Config, [{ Subnet: "10.90.0.0/16", Gateway: "10.90.0.1" }]);
  assert.equal(made[0]!.Options["com.docker.network.bridge.default_bridge"], "true");
  assert.deepEqual(made[1]!.IPAM.Config, []);
  assert.deepEqual(planPredefined(made, routes), []);
});

Deno.test("planNetwork() picks the next free subnet, and refuses overlaps and names taken", () => {
  const existing: NetworkRecord[] = planPredefined([], routes);
  const a = planNetwork("a", {}, existing, routes);
  assert.deepEqual(a.IPAM.Config, [{ Subnet: "10.91.0.0/16", Gateway: "10.91.0.1" }]);
  assert.equal(a.Berth.bridge, `br-${a.Id.slice(0, 12)}`);
  assert.match(a.Id, /^[0-9a-f]{64}$/);
  existing.push(a);
  // A given subnet may cover a host route (Docker does not check those), not another network.
  const b = planNetwork("b", { subnets: ["192.0.2.0/25"] }, existing, routes);
  assert.equal(b.Berth.subnetGiven, true);
  existing.push(b);
  refused(
    () => planNetwork("c", { subnets: ["10.91.3.0/24"] }, existing, routes),
    ConflictError,
    "Pool overlaps with other one on this address space",
  );
  refused(
    () => planNetwork("a", {}, existing, routes),
    ConflictError,
    "network with name a already exists",
  );
  refused(
    () => planNetwork("host", {}, existing, routes),
    ConflictError,
    "operation is not permitted on predefined host network",
  );
  refused(
    () => planNetwork("d", { driver: "overlay" }, existing, routes),
    NotFoundError,
    'plugin "overlay" not found',
  );
  assert.throws(
    () =>
      planNetwork(
        "d",
        { options: { "com.docker.network.bridge.name": "berth0" } },
        existing,
        routes,
      ),
    /conflicts with network [0-9a-f]{64} \(berth0\): networks have same bridge name$/,
  );
  assert.throws(() => planNetwork("bad name", {}, existing, routes), InvalidError);
});

Deno.test("freeSubnet() skips every taken block and says so when the pool is used up", () => {
  assert.equal(formatCidr(freeSubnet([parseCidr("10.89.0.0/16")])), "10.90.0.0/16");
  assert.equal(formatCidr(freeSubnet([parseCidr("10.0.0.0/8")])), "192.168.0.0/20");
  refused(
    () => freeSubnet([parseCidr("10.0.0.0/8"), parseCidr("192.168.0.0/16")]),
    ConflictError,
    "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
  );
});
