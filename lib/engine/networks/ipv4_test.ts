import assert from "node:assert/strict";
import { InvalidError } from "../../errors.ts";
import {
  contains,
  formatCidr,
  formatIPv4,
  lastOf,
  overlaps,
  parseCidr,
  parseIPv4,
  parseRoutes,
} from "./ipv4.ts";

Deno.test("parseIPv4() reads dotted quads and refuses anything else", () => {
  assert.equal(parseIPv4("10.89.0.1"), 0x0a590001);
  assert.equal(parseIPv4("255.255.255.255"), 0xffffffff);
  assert.equal(formatIPv4(0xc0a80a01), "192.168.10.1");
  for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "a.b.c.d", "1.2.3.-1"]) {
    assert.equal(parseIPv4(bad), undefined, bad);
  }
});

Deno.test("parseCidr() gives the block, and Docker's messages for bad ones", () => {
  const c = parseCidr("10.89.0.0/16");
  assert.deepEqual(c, { base: 0x0a590000, prefix: 16 });
  assert.equal(formatIPv4(lastOf(c)), "10.89.255.255");
  assert.equal(formatCidr(parseCidr("0.0.0.0/0")), "0.0.0.0/0");
  assert.throws(() => parseCidr("10.1.2.3/16"), {
    name: InvalidError.name,
    message: "invalid subnet 10.1.2.3/16: it should be 10.1.0.0/16",
  });
  for (const bad of ["foo", "10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0/8", "10.0.0.0/"]) {
    assert.throws(() => parseCidr(bad), (e: Error) => {
      assert.ok(e instanceof InvalidError);
      assert.equal(e.message, `invalid subnet ${bad}: invalid CIDR block notation`);
      return true;
    });
  }
  assert.throws(() => parseCidr("fd00::/64", "ip-range"), /invalid ip-range fd00::\/64: IPv6/);
});

Deno.test("contains() and overlaps() follow block bounds", () => {
  const a = parseCidr("10.1.0.0/16");
  assert.ok(contains(a, parseIPv4("10.1.255.255")!));
  assert.ok(!contains(a, parseIPv4("10.2.0.0")!));
  assert.ok(overlaps(a, parseCidr("10.1.5.0/24")));
  assert.ok(overlaps(parseCidr("10.0.0.0/8"), a));
  assert.ok(!overlaps(a, parseCidr("10.2.0.0/16")));
  assert.ok(!overlaps(parseCidr("10.0.255.0/24"), a));
});

Deno.test("parseRoutes() reads /proc/net/route and leaves out default routes", () => {
  const text = [
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
    "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
    "",
  ].join("\n");
  assert.deepEqual(parseRoutes(text).map(formatCidr), ["192.0.2.0/24", "172.17.0.0/16"]);
});
