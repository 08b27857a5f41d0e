import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import {
  choosePorts,
  EPHEMERAL_FIRST,
  forwardsOf,
  parseExpose,
  parsePortSpec,
  parsePublish,
  PortAllocatedError,
  portBindings,
  portLines,
  psPorts,
  takenPorts,
} from "./container_ports.ts";
import { natScript } from "./networks/nat.ts";
import type { NetworkRecord } from "./networks/mod.ts";

Deno.test("parsePortSpec reads Docker's -p forms", () => {
  assert.deepEqual(parsePortSpec("127.0.0.1:18080:80"), [
    { port: "80/tcp", binding: { HostIp: "127.0.0.1", HostPort: "18080" } },
  ]);
  assert.deepEqual(parsePortSpec("53/udp"), [{
    port: "53/udp",
    binding: { HostIp: "", HostPort: "" },
  }]);
  assert.deepEqual(parsePortSpec("8000-8001:80-81/TCP").map((m) => [m.port, m.binding.HostPort]), [
    ["80/tcp", "8000"],
    ["81/tcp", "8001"],
  ]);
  assert.deepEqual(parsePortSpec("9000-9009:80")[0]!.binding.HostPort, "9000-9009");
  assert.deepEqual(parsePortSpec("[::1]:80:80")[0]!.binding.HostIp, "::1");
});

Deno.test("parsePortSpec refuses as Docker does", () => {
  const cases: [string, string][] = [
    ["70000:80", "invalid hostPort: 70000"],
    ["80:99999", "invalid containerPort: 99999"],
    ["abc", "invalid containerPort: abc"],
    ["1.2.3.999:80:80", "invalid IP address: 1.2.3.999"],
    ["80:", "no port specified: 80:<empty>"],
    [
      "8000-8002:80-81",
      "invalid ranges specified for container and host Ports: 80-81 and 8000-8002",
    ],
    ["80/xyz", "invalid proto: xyz"],
    ["90-80", "invalid containerPort: 90-80"],
  ];
  for (const [spec, message] of cases) {
    assert.throws(
      () => parsePortSpec(spec),
      (e) => e instanceof InvalidError && (e as Error).message === message,
    );
  }
});

Deno.test("--expose and -P bindings", () => {
  assert.deepEqual(parseExpose(["80", "7000-7001/udp"]), ["80/tcp", "7000/udp", "7001/udp"]);
  assert.throws(
    () => parseExpose(["x"]),
    (e) =>
      e instanceof InvalidError && (e as Error).message === "invalid range format for --expose: x",
  );
  const publish = parsePublish(["8080:80"]);
  assert.deepEqual(portBindings(publish, ["80/tcp", "443/tcp"], true), {
    "80/tcp": [{ HostIp: "", HostPort: "8080" }],
    "443/tcp": [{ HostIp: "", HostPort: "" }],
  });
  assert.deepEqual(portBindings(publish, ["443/tcp"], false), {
    "80/tcp": [{ HostIp: "", HostPort: "8080" }],
  });
});

Deno.test("choosePorts: random ports skip taken and bound ones; a fixed clash fails", () => {
  const taken = takenPorts([{
    "80/tcp": [{ HostIp: "0.0.0.0", HostPort: String(EPHEMERAL_FIRST) }],
  }]);
  const bound = new Set([EPHEMERAL_FIRST + 1]);
  const free = (_ip: string, port: number) => !bound.has(port);
  const got = choosePorts(parsePublish(["80", "127.0.0.1:18080:81"]), taken, free);
  assert.deepEqual(got, {
    "80/tcp": [{ HostIp: "0.0.0.0", HostPort: String(EPHEMERAL_FIRST + 2) }],
    "81/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }],
  });
  assert.throws(
    () => choosePorts(parsePublish([`${EPHEMERAL_FIRST}:80`]), taken, free),
    (e) =>
      e instanceof PortAllocatedError &&
      e.message === `Bind for 0.0.0.0:${EPHEMERAL_FIRST} failed: port is already allocated`,
  );
  // the same port on udp, or another address against a specific one, is free
  assert.ok(choosePorts(parsePublish([`${EPHEMERAL_FIRST}:80/udp`]), taken, free)["80/udp"]);
  const specific = takenPorts([{ "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }] }]);
  assert.ok(choosePorts(parsePublish(["127.0.0.2:18080:80"]), specific, free)["80/tcp"]);
  assert.throws(() => choosePorts(parsePublish(["18080:80"]), specific, free), PortAllocatedError);
});

Deno.test("port and ps views", () => {
  const ports = {
    "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "32768" }],
    "443/tcp": [] as { HostIp: string; HostPort: string }[],
  };
  assert.deepEqual(portLines(ports), ["80/tcp -> 0.0.0.0:32768"]);
  assert.deepEqual(portLines(ports, "80/tcp"), ["0.0.0.0:32768"]);
  assert.deepEqual(psPorts(ports), "0.0.0.0:32768->80/tcp, 443/tcp");
});

function network(bridge: string): NetworkRecord {
  return {
    Name: "n",
    Driver: "bridge",
    Internal: false,
    IPAM: { Config: [{ Subnet: "10.99.0.0/24", Gateway: "10.99.0.1" }] },
    Berth: { bridge },
  } as unknown as NetworkRecord;
}

Deno.test("natScript holds DNAT rules for the forwards on berth's bridges only", () => {
  const forwards = [
    ...forwardsOf({ "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }] }, "10.99.0.2", "br-a"),
    ...forwardsOf({ "53/udp": [{ HostIp: "0.0.0.0", HostPort: "5353" }] }, "10.99.0.3", "br-gone"),
  ];
  const script = natScript([network("br-a")], forwards);
  assert.ok(
    script.includes("ip daddr 127.0.0.1 fib daddr type local tcp dport 18080 dnat to 10.99.0.2:80"),
  );
  assert.ok(script.includes(`ip saddr 127.0.0.0/8 oifname "br-a" masquerade`));
  assert.ok(!script.includes("5353"), script);
  assert.ok(!natScript([network("br-a")]).includes("dnat"));
});

Deno.test("nft accepts the script (checked in a scratch namespace)", async () => {
  const ns = `berth-test-N5-${Deno.pid}`;
  const ip = (...args: string[]) => new Deno.Command("ip", { args, stderr: "null" }).outputSync();
  assert.ok(ip("netns", "add", ns).success);
  try {
    const forwards = forwardsOf(
      {
        "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "18080" }],
        "53/udp": [{ HostIp: "127.0.0.1", HostPort: "53" }],
      },
      "10.99.0.2",
      "br-a",
    );
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, "nft", "-c", "-f", "-"],
      stdin: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(natScript([network("br-a")], forwards)));
    await w.close();
    const out = await child.output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  } finally {
    ip("netns", "del", ns);
  }
});
