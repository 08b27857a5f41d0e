/**
 * Containers on networks, end to end. berth runs only inside a scratch
 * network namespace each test makes (`berth-test-N3-...`, tests/_netns.ts)
 * and removes afterwards, so the machine's own links are never touched.
 */
import assert from "node:assert/strict";
import { retry, type Scratch, serveOn, shOn, withScratchNet } from "./_netns.ts";

function withNet(fn: (env: Scratch) => Promise<void>): Promise<void> {
  return withScratchNet({ tag: "N3" }, fn);
}

Deno.test("two containers on a user network reach each other by IP (ping, TCP); not across networks; nothing left after rm", () =>
  withNet(async ({ b, inNs, leases, veths }) => {
    assert.equal((await b(["network", "create", "--subnet", "10.61.0.0/24", "front"])).code, 0);
    assert.equal((await b(["network", "create", "--subnet", "10.62.0.0/24", "back"])).code, 0);
    const ip = await serveOn(b, "front", "hello-from-web");
    assert.equal(ip, "10.61.0.2");
    const client = await shOn(
      b,
      "front",
      `ping -c1 -W2 ${ip} >/dev/null && ` + retry(`wget -qO- http://${ip}/index.html`, 10, 0.2),
    );
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout.trim(), "hello-from-web");
    // Docker keeps networks apart with firewall rules, which come with NAT; until then the
    // scratch namespace routes nothing, and the check is that they are separate segments.
    const off = await inNs("sysctl", ["-qw", "net.ipv4.ip_forward=0"]);
    assert.equal(off.code, 0, off.stderr);
    const other = await shOn(
      b,
      "back",
      `ping -c1 -W1 ${ip} >/dev/null 2>&1 && echo reached; wget -T 1 -qO- http://${ip}/index.html 2>/dev/null && echo reached; true`,
    );
    assert.equal(other.code, 0, other.stderr);
    assert.ok(!other.stdout.includes("reached"), `from another network: ${other.stdout}`);
    const vethBefore = await veths();
    assert.equal(vethBefore.length, 1, `web's veth: ${vethBefore}`);
    assert.equal(leases(), 1);
    const inspect = JSON.parse((await b(["network", "inspect", "front"])).stdout)[0];
    assert.equal(Object.values(inspect.Containers).length, 1);
    assert.equal((await b(["rm", "-f", "web"])).code, 0);
    assert.deepEqual(await veths(), []);
    assert.equal(leases(), 0);
  }));

Deno.test("--network none has only lo; --network host sees the namespace's links", () =>
  withNet(async ({ b, links }) => {
    const none = await b(["run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"]);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual(none.stdout.trim().split(/\s+/), ["lo"]);
    assert.equal((await b(["network", "create", "--subnet", "10.63.0.0/24", "mark"])).code, 0);
    // A bridge-mode container makes the network's bridge in the scratch namespace.
    assert.equal((await b(["run", "--rm", "--network", "mark", "busybox", "true"])).code, 0);
    const here = await links();
    assert.ok(here.some((l) => l.startsWith("br-")), `${here}`);
    const host = await b(["run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"]);
    assert.equal(host.code, 0, host.stderr);
    assert.deepEqual(host.stdout.trim().split(/\s+/).sort(), here);
  }));

Deno.test("--ip, --mac-address, --hostname, --add-host (host-gateway), --dns, --dns-search", () =>
  withNet(async ({ b }) => {
    assert.equal((await b(["network", "create", "--subnet", "10.64.0.0/24", "net1"])).code, 0);
    const out = await b([
      "run",
      "--rm",
      "--network",
      "net1",
      "--ip",
      "10.64.0.77",
      "--mac-address",
      "92:d0:c6:0a:29:33",
      "--hostname",
      "box",
      "--add-host",
      "db:10.1.2.3",
      "--add-host",
      "gw:host-gateway",
      "--dns",
      "10.9.9.9",
      "--dns-search",
      "example.org",
      "busybox",
      "sh",
      "-c",
      "cat /sys/class/net/eth0/address; ip -4 -o addr show eth0; ip route; " +
      "echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf",
    ]);
    assert.equal(out.code, 0, out.stderr);
    const [net, hosts, resolv] = out.stdout.split("---\n");
    assert.ok(net!.startsWith("92:d0:c6:0a:29:33\n"), net!);
    assert.match(net!, /inet 10\.64\.0\.77\/24/);
    assert.match(net!, /default via 10\.64\.0\.1 dev eth0/);
    assert.equal(
      hosts,
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n" +
        "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n" +
        "10.1.2.3\tdb\n10.64.0.1\tgw\n10.64.0.77\tbox\n",
    );
    assert.match(resolv!, /^search example\.org\nnameserver 10\.9\.9\.9\n/);
    assert.equal((resolv!.match(/nameserver/g) ?? []).length, 1);
  }));

Deno.test("bad network input fails with 125 and leaves nothing", () =>
  withNet(async ({ b, leases, veths }) => {
    assert.equal((await b(["network", "create", "--subnet", "10.65.0.0/24", "net2"])).code, 0);
    const taken = await b([
      "run",
      "-d",
      "--network",
      "net2",
      "--ip",
      "10.65.0.9",
      "busybox",
      "sleep",
      "60",
    ]);
    assert.equal(taken.code, 0, taken.stderr);
    const cases: [string[], RegExp][] = [
      [["--network", "nonet"], /network nonet not found/],
      [["--network", "net2", "--ip", "10.66.0.5"], /no configured subnet|does not belong|not in/i],
      [["--network", "net2", "--ip", "10.65.0.9"], /Address already in use/],
      [["--network", "bridge", "--ip", "10.65.0.5"], /user defined networks only/],
    ];
    for (const [flags, message] of cases) {
      const out = await b(["run", "--rm", ...flags, "busybox", "true"]);
      assert.equal(out.code, 125, `${flags}: ${out.stderr}`);
      assert.match(out.stderr, message);
    }
    const ps = (await b(["ps", "-aq"])).stdout.trim().split("\n").filter((l) => l !== "");
    assert.equal(ps.length, 1, "only the first container");
    assert.equal(leases(), 1);
    assert.equal((await veths()).length, 1);
  }));

Deno.test("bridge is the default network unless BERTH_DEFAULT_NETWORK says otherwise; kill -9 of a bridge container's conmon leaves no veth or lease once berth notices", () =>
  withNet(async ({ b, leases, links, veths }) => {
    // The tests' environment says none (tests/_helpers.ts); empty is berth's own default.
    const bridge = { BERTH_DEFAULT_NETWORK: "" };
    const run = await b(["run", "-d", "--name", "plain", "busybox", "sleep", "60"], {
      env: bridge,
    });
    assert.equal(run.code, 0, run.stderr);
    const view = await b([
      "inspect",
      "-f",
      "{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}}",
      "plain",
    ]);
    assert.match(view.stdout.trim(), /^bridge 10\.89\.0\.2 10\.89\.0\.1$/);
    assert.ok((await links()).includes("berth0"), "the default bridge");
    const eth = await b(["exec", "plain", "ip", "-4", "-o", "addr", "show", "eth0"]);
    assert.match(eth.stdout, /inet 10\.89\.0\.2\/16/);
    const none = await b(["run", "--rm", "busybox", "ls", "/sys/class/net"], {
      env: { BERTH_DEFAULT_NETWORK: "none" },
    });
    assert.deepEqual(none.stdout.trim().split(/\s+/), ["lo"]);
    // The container's init is the child of its conmon; kill -9 the conmon.
    const pid = Number((await b(["inspect", "-f", "{{.State.Pid}}", "plain"])).stdout.trim());
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const conmon = Number(/^PPid:\s+(\d+)/m.exec(status)![1]);
    assert.equal(Deno.readTextFileSync(`/proc/${conmon}/comm`).trim(), "conmon");
    Deno.kill(conmon, "SIGKILL");
    let state = "";
    for (let i = 0; i < 100 && state !== "exited"; i++) {
      state = (await b(["inspect", "-f", "{{.State.Status}}", "plain"])).stdout.trim();
      if (state !== "exited") await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, "exited");
    assert.deepEqual(await veths(), []);
    assert.equal(leases(), 0);
  }));
