/**
 * The `network` commands as a user runs them, on a temp root: create (with
 * and without IPAM flags), ls with filters and formats, inspect, rm and
 * prune, and bad input refused in one line with nothing left behind. `network
 * rm` and `prune` remove bridges and rebuild berth's nftables table, so berth
 * runs inside a scratch network namespace that each test makes and removes:
 * nothing reaches the machine's own links or firewall.
 */
import assert from "node:assert/strict";
import type { Run } from "./_helpers.ts";
import { type Berth, ok, withScratchNet } from "./_netns.ts";
import { NetworkStore } from "../lib/engine/networks/mod.ts";

/** berth in a scratch namespace on a fresh root (no image: these tests run no container). */
function withRoot(fn: (b: Berth, root: string) => Promise<void>): Promise<void> {
  return withScratchNet({ tag: "nw", image: false }, ({ b, root }) => fn(b, root));
}

/** One error line on stderr, exit 1, nothing on stdout, and the text Docker prints. */
function assertRefused(out: Run, text: string): void {
  assert.equal(out.code, 1, out.stderr);
  assert.equal(out.stdout, "");
  assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
  assert.equal(out.stderr, `Error: ${text}\n`);
}

function recordFiles(root: string): string[] {
  return [...Deno.readDirSync(`${root}/networks`)].map((e) => e.name).sort();
}

Deno.test("network ls lists Docker's predefined networks on a fresh root", async () => {
  await withRoot(async (b) => {
    const lines = (await ok(b, ["network", "ls"])).trim().split("\n").map((l) => l.split(/\s+/));
    assert.deepEqual(lines[0], ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]);
    assert.deepEqual(lines.slice(1).map((l) => l.slice(1)), [
      ["bridge", "bridge", "local"],
      ["host", "host", "local"],
      ["none", "null", "local"],
    ]);
    for (const l of lines.slice(1)) assert.match(l[0]!, /^[0-9a-f]{12}$/);
    const [bridge] = JSON.parse(await ok(b, ["network", "inspect", "bridge"]));
    const subnet = bridge.IPAM.Config[0].Subnet as string;
    assert.match(subnet, /^\d+\.\d+\.0\.0\/16$/);
    assert.notEqual(subnet, "172.17.0.0/16");
    assert.equal(bridge.Options["com.docker.network.bridge.default_bridge"], "true");
    // The same IDs the next time: the predefined records are made once.
    assert.equal(
      await ok(b, ["network", "ls", "-q"]),
      lines.slice(1).map((l) => `${l[0]}\n`).join(""),
    );
  });
});

Deno.test("network create with IPAM flags, then inspect shows Docker's JSON", async () => {
  await withRoot(async (b, root) => {
    const id = (await ok(b, [
      "network",
      "create",
      "-d",
      "bridge",
      "--subnet",
      "10.55.0.0/16",
      "--gateway",
      "10.55.0.254",
      "--ip-range",
      "10.55.8.0/24",
      "--internal",
      "--label",
      "app=web",
      "-o",
      "com.docker.network.bridge.name=br-test55",
      "web",
    ])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.ok(recordFiles(root).includes(`${id}.json`));
    const [n, ...rest] = JSON.parse(await ok(b, ["network", "inspect", "web"]));
    assert.equal(rest.length, 0);
    assert.deepEqual(Object.keys(n), [
      "Name",
      "Id",
      "Created",
      "Scope",
      "Driver",
      "EnableIPv6",
      "IPAM",
      "Internal",
      "Attachable",
      "Ingress",
      "ConfigFrom",
      "ConfigOnly",
      "Containers",
      "Options",
      "Labels",
    ]);
    assert.equal(n.Id, id);
    assert.deepEqual(n.IPAM, {
      Driver: "default",
      Options: {},
      Config: [{ Subnet: "10.55.0.0/16", IPRange: "10.55.8.0/24", Gateway: "10.55.0.254" }],
    });
    assert.equal(n.Internal, true);
    assert.deepEqual(n.Containers, {});
    assert.deepEqual(n.Options, { "com.docker.network.bridge.name": "br-test55" });
    assert.deepEqual(n.Labels, { app: "web" });
    assert.ok(!Number.isNaN(Date.parse(n.Created)));
    assert.equal(
      await ok(b, [
        "network",
        "inspect",
        "-f",
        "{{.Name}} {{.Driver}} {{.Internal}}",
        id.slice(0, 8),
      ]),
      "web bridge true\n",
    );
    // Without --subnet, the next free one from the pool.
    await ok(b, ["network", "create", "auto"]);
    const [auto] = JSON.parse(await ok(b, ["network", "inspect", "auto"]));
    const [bridge] = JSON.parse(await ok(b, ["network", "inspect", "bridge"]));
    assert.notEqual(auto.IPAM.Config[0].Subnet, bridge.IPAM.Config[0].Subnet);
    assert.equal(auto.IPAM.Config[0].Gateway, auto.IPAM.Config[0].Subnet.replace(/0\/\d+$/, "1"));
  });
});

Deno.test("network ls: -q, --no-trunc, --filter name|id|label|driver|type, --format", async () => {
  await withRoot(async (b) => {
    const a = (await ok(b, ["network", "create", "--label", "tier=front", "alpha"])).trim();
    const z = (await ok(b, ["network", "create", "--label", "tier=back", "zeta"])).trim();
    const names = async (...args: string[]) =>
      (await ok(b, ["network", "ls", "--format", "{{.Name}}", ...args])).trim().split("\n");
    assert.deepEqual(await names(), ["alpha", "bridge", "host", "none", "zeta"]);
    assert.deepEqual(await names("--filter", "name=alp"), ["alpha"]);
    assert.deepEqual(await names("--filter", "name=^(alpha|zeta)$"), ["alpha", "zeta"]);
    assert.deepEqual(await names("--filter", `id=${z.slice(0, 6)}`), ["zeta"]);
    assert.deepEqual(await names("--filter", "label=tier=back"), ["zeta"]);
    assert.deepEqual(await names("--filter", "label=tier"), ["alpha", "zeta"]);
    assert.deepEqual(await names("--filter", "driver=null"), ["none"]);
    assert.deepEqual(await names("--filter", "type=builtin"), ["bridge", "host", "none"]);
    assert.deepEqual(await names("-f", "type=custom", "-f", "label=tier=front"), ["alpha"]);
    assert.equal(await ok(b, ["network", "ls", "-q", "-f", "name=alpha"]), `${a.slice(0, 12)}\n`);
    assert.equal(
      await ok(b, ["network", "ls", "-q", "--no-trunc", "-f", "name=alpha"]),
      `${a}\n`,
    );
    const table = await ok(b, [
      "network",
      "ls",
      "--format",
      "table {{.ID}}\t{{.Name}}\t{{.Labels}}",
      "-f",
      "name=zeta",
    ]);
    assert.deepEqual(table.trim().split("\n").map((l) => l.split(/\s{2,}/)), [
      ["NETWORK ID", "NAME", "LABELS"],
      [z.slice(0, 12), "zeta", "tier=back"],
    ]);
    const json = JSON.parse(await ok(b, ["network", "ls", "--format", "json", "-f", "name=zeta"]));
    assert.equal(json.Name, "zeta");
    assert.equal(json.Driver, "bridge");
    assertRefused(await b(["network", "ls", "-f", "colour=red"]), "Invalid filter 'colour'");
  });
});

Deno.test("network create refuses bad input in one line and leaves nothing", async () => {
  await withRoot(async (b, root) => {
    await ok(b, ["network", "create", "--subnet", "10.66.0.0/16", "taken"]);
    const before = recordFiles(root);
    const cases: [string[], string][] = [
      [["--subnet", "10.66.4.0/24", "x"], "Pool overlaps with other one on this address space"],
      [
        ["--subnet", "10.67.0.0/16", "--gateway", "10.68.0.1", "x"],
        "no matching subnet for gateway 10.68.0.1",
      ],
      [
        ["--subnet", "10.67.0.0/16", "--ip-range", "10.68.0.0/24", "x"],
        "no matching subnet for range 10.68.0.0/24",
      ],
      [
        ["--gateway", "10.67.0.1", "x"],
        "every ip-range or gateway must have a corresponding subnet",
      ],
      [
        ["--subnet", "10.67.0.0/99", "x"],
        "invalid subnet 10.67.0.0/99: invalid CIDR block notation",
      ],
      [["--subnet", "banana", "x"], "invalid subnet banana: invalid CIDR block notation"],
      [["--subnet", "10.67.1.0/16", "x"], "invalid subnet 10.67.1.0/16: it should be 10.67.0.0/16"],
      [["taken"], "network with name taken already exists"],
      [["bridge"], "operation is not permitted on predefined bridge network"],
      [["-d", "overlay", "x"], 'plugin "overlay" not found'],
      [["-d", "host", "x"], 'only one instance of "host" network is allowed'],
    ];
    for (const [args, text] of cases) {
      assertRefused(await b(["network", "create", ...args]), text);
    }
    assert.deepEqual(recordFiles(root), before);
  });
});

Deno.test("network rm: removes, refuses predefined, in-use and unknown networks", async () => {
  await withRoot(async (b, root) => {
    const id = (await ok(b, ["network", "create", "busy"])).trim();
    await ok(b, ["network", "create", "idle"]);
    // A container's lease, as `run --network busy` will take it.
    const store = new NetworkStore(root, `${root}/tmp`);
    const ep = await store.allocate("busy", "c".repeat(64), { name: "app" });
    const [n] = JSON.parse(await ok(b, ["network", "inspect", "busy"]));
    assert.deepEqual(n.Containers, { ["c".repeat(64)]: ep });
    assert.equal(ep.Name, "app");
    const before = recordFiles(root);
    assertRefused(
      await b(["network", "rm", "busy"]),
      `error while removing network: network busy id ${id} has active endpoints`,
    );
    for (const name of ["bridge", "host", "none"]) {
      assertRefused(
        await b(["network", "rm", name]),
        `${name} is a pre-defined network and cannot be removed`,
      );
    }
    assertRefused(await b(["network", "rm", "ghost"]), "No such network: ghost");
    const inspect = await b(["network", "inspect", "ghost"]);
    assert.equal(inspect.code, 1);
    assert.equal(inspect.stderr, "Error: No such network: ghost\n");
    assert.deepEqual(recordFiles(root), before);
    assert.equal(await ok(b, ["network", "rm", "-f", "ghost", "idle"]), "idle\n");
    await store.release("busy", "c".repeat(64));
    assert.equal(await ok(b, ["network", "rm", id.slice(0, 10)]), `${id.slice(0, 10)}\n`);
    assert.equal(recordFiles(root).length, 3);
  });
});

Deno.test("network prune removes unused custom networks, keeps used and filtered ones", async () => {
  await withScratchNet({ tag: "nw", image: false }, async ({ b, root, inNs }) => {
    for (const n of ["a", "b", "c"]) await ok(b, ["network", "create", n]);
    await ok(b, ["network", "create", "--label", "keep=yes", "k"]);
    await new NetworkStore(root, `${root}/tmp`).allocate("b", "d".repeat(64));
    // Without -f and no answer, nothing is removed.
    const asked = await b(["network", "prune"], { stdin: new Uint8Array() });
    assert.equal(asked.code, 0);
    assert.match(
      asked.stdout,
      /^WARNING! This will remove all custom networks not used by at least one container\.\nAre you sure you want to continue\? \[y\/N\] /,
    );
    assert.equal(
      await ok(b, ["network", "prune", "-f", "--filter", "label!=keep"]),
      "Deleted Networks:\na\nc\n\n",
    );
    const left = (await ok(b, ["network", "ls", "--format", "{{.Name}}"])).trim().split("\n");
    assert.deepEqual(left, ["b", "bridge", "host", "k", "none"]);
    assert.equal(await ok(b, ["network", "prune", "-f"]), "Deleted Networks:\nk\n\n");
    assert.equal(await ok(b, ["network", "prune", "-f"]), "");
    // No container ever made a bridge here: the prunes made no nftables table either.
    const table = await inNs("nft", ["list", "table", "ip", "berth"]);
    assert.notEqual(table.code, 0, `no berth table: ${table.stdout}`);
  });
});
