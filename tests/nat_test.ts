/**
 * Outbound NAT, `--internal` and isolation, end to end. berth runs inside
 * a scratch network namespace (`berth-test-N4-...`,
 * tests/_netns.ts); a second one stands for "the outside": it
 * is joined to berth's namespace by a veth and has no route to any
 * container subnet, so its HTTP server (which answers with the client's
 * address) is reachable from a container only through masquerade.
 */
import assert from "node:assert/strict";
import {
  must,
  OUTSIDE,
  retry,
  type Scratch,
  serveOn,
  shOn,
  startIn,
  withScratchNet,
} from "./_netns.ts";

const SERVER =
  `Deno.serve({ hostname: '${OUTSIDE.outer}', port: 8080, onListen() { console.log('up') } }, ` +
  "(_req, info) => new Response(info.remoteAddr.hostname + '\\n'))";

/** berth's scratch namespace, "the outside" joined to it by a veth, and its server. */
function withOutside(fn: (env: Scratch) => Promise<void>): Promise<void> {
  return withScratchNet({ tag: "N4", outside: true }, async (env) => {
    const server = await startIn(env.outside!, SERVER, /up/);
    try {
      await fn(env);
    } finally {
      await server.stop();
    }
  });
}

const FETCH = retry(`timeout 3 wget -qO- http://${OUTSIDE.outer}:8080/`, 3, 0.2);

Deno.test("a container reaches the outside only through masquerade; --internal cannot; networks are isolated", () =>
  withOutside(async ({ ns, b, inNs }) => {
    assert.equal((await b(["network", "create", "--subnet", "10.71.0.0/24", "front"])).code, 0);
    assert.equal((await b(["network", "create", "--subnet", "10.72.0.0/24", "back"])).code, 0);
    const internal = await b([
      "network",
      "create",
      "--internal",
      "--subnet",
      "10.73.0.0/24",
      "inner",
    ]);
    assert.equal(internal.code, 0, internal.stderr);
    // Outbound: the server sees berth's namespace address, not the container's.
    const outbound = await shOn(b, "front", FETCH);
    assert.equal(outbound.code, 0, outbound.stderr);
    assert.equal(outbound.stdout.trim(), OUTSIDE.inner);
    const forward = await inNs("cat", ["/proc/sys/net/ipv4/ip_forward"]);
    assert.equal(forward.code, 0, forward.stderr);
    assert.equal(forward.stdout.trim(), "1");
    // Without the masquerade rule the outside has no way back: the same fetch fails.
    const ruleset = await must("ip", ["netns", "exec", ns, "nft", "list", "table", "ip", "berth"]);
    assert.match(ruleset, /ip saddr 10\.71\.0\.0\/24 oifname != "br-[0-9a-f]+" masquerade/);
    assert.doesNotMatch(ruleset, /10\.73\.0\.0\/24/, "no masquerade for an internal network");
    // --internal: no route out, and the bridge forwards nothing even with one added.
    const inner = await shOn(
      b,
      "inner",
      "ip route add default via 10.73.0.1 2>/dev/null; " +
        `timeout 3 wget -qO- http://${OUTSIDE.outer}:8080/ && echo reached; true`,
    );
    assert.equal(inner.code, 0, inner.stderr);
    assert.ok(!inner.stdout.includes("reached"), `internal reached out: ${inner.stdout}`);
    // Isolation: with forwarding on, front cannot reach back.
    const ip = await serveOn(b, "back", "hi");
    const same = await shOn(
      b,
      "back",
      retry(`timeout 3 wget -qO- http://${ip}/index.html`, 10, 0.2),
    );
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout.trim(), "hi");
    const across = await shOn(
      b,
      "front",
      `timeout 3 wget -qO- http://${ip}/index.html && echo reached; true`,
    );
    assert.equal(across.code, 0, across.stderr);
    assert.ok(!across.stdout.includes("reached"), `across networks: ${across.stdout}`);
  }));
