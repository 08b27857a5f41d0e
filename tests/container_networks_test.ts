/**
 * Containers on networks, end to end. berth runs only inside a scratch
 * network namespace each test makes (`ip netns add berth-test-N3-...`) and
 * removes afterwards, so the machine's own links are never touched; berth is
 * run there with `nsenter --net` (`ip netns exec` would remount /sys, which
 * hides the cgroup controllers from berth).
 */
import assert from "node:assert/strict";
import { berthArgs, makeRootfs, type Run, withTempDir } from "./_helpers.ts";
import { processesMentioning } from "./_containers.ts";

async function sh(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

interface NetEnv {
  ns: string;
  root: string;
  b: (args: string[], env?: Record<string, string>) => Promise<Run>;
  /** `ip -j ARGS` inside the scratch namespace. */
  ipj: (args: string[]) => Promise<unknown[]>;
}

async function withScratchNet(fn: (env: NetEnv) => Promise<void>): Promise<void> {
  const ns = `berth-test-N3-${crypto.randomUUID().slice(0, 8)}`;
  const made = await sh("ip", ["netns", "add", ns]);
  assert.equal(made.code, 0, made.stderr);
  try {
    await withTempDir(async (dir) => {
      const root = `${dir}/root`;
      const b = async (args: string[], env: Record<string, string> = {}): Promise<Run> =>
        await sh("nsenter", [
          `--net=/run/netns/${ns}`,
          Deno.execPath(),
          ...berthArgs(root, ["--run-root", `${dir}/run`, ...args]),
        ], env);
      const ipj = async (args: string[]) => {
        const out = await sh("ip", ["-n", ns, "-j", ...args]);
        assert.equal(out.code, 0, out.stderr);
        return JSON.parse(out.stdout || "[]") as unknown[];
      };
      const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
      const imported = await b(["import", "--change", 'CMD ["sh"]', tarball, "busybox"]);
      assert.equal(imported.code, 0, imported.stderr);
      try {
        await fn({ ns, root, b, ipj });
      } finally {
        const ids = (await b(["ps", "-aq", "--no-trunc"])).stdout.trim().split("\n")
          .filter((l) => l !== "");
        for (const id of ids) await b(["rm", "-f", id]);
        for (let i = 0; i < 100 && processesMentioning(root).length > 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.deepEqual(processesMentioning(root), [], "no process of berth is left");
      }
    });
  } finally {
    await sh("ip", ["netns", "delete", ns]);
  }
}

function links(list: unknown[]): string[] {
  return (list as { ifname: string }[]).map((l) => l.ifname).sort();
}

function leases(root: string): number {
  let n = 0;
  for (const e of Deno.readDirSync(`${root}/networks`)) {
    const record = JSON.parse(Deno.readTextFileSync(`${root}/networks/${e.name}`));
    n += Object.keys(record.Containers).length;
  }
  return n;
}

Deno.test("two containers on a user network reach each other by IP (ping, TCP); not across networks; nothing left after rm", () =>
  withScratchNet(async ({ ns, root, b, ipj }) => {
    assert.equal((await b(["network", "create", "--subnet", "10.61.0.0/24", "front"])).code, 0);
    assert.equal((await b(["network", "create", "--subnet", "10.62.0.0/24", "back"])).code, 0);
    const web = await b([
      "run",
      "-d",
      "--name",
      "web",
      "--network",
      "front",
      "busybox",
      "sh",
      "-c",
      "echo hello-from-web > /tmp/index.html; httpd -f -p 80 -h /tmp",
    ]);
    assert.equal(web.code, 0, web.stderr);
    const ip = (await b(["inspect", "-f", "{{.NetworkSettings.Networks.front.IPAddress}}", "web"]))
      .stdout.trim();
    assert.equal(ip, "10.61.0.2");
    const client = await b([
      "run",
      "--rm",
      "--network",
      "front",
      "busybox",
      "sh",
      "-c",
      `ping -c1 -W2 ${ip} >/dev/null && for i in 1 2 3 4 5 6 7 8 9 10; do ` +
      `wget -qO- http://${ip}/index.html && exit 0; sleep 0.2; done; exit 1`,
    ]);
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout.trim(), "hello-from-web");
    // Docker keeps networks apart with firewall rules, which come with NAT; until then the
    // scratch namespace routes nothing, and the check is that they are separate segments.
    const off = await sh("ip", ["netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
    assert.equal(off.code, 0, off.stderr);
    const other = await b([
      "run",
      "--rm",
      "--network",
      "back",
      "busybox",
      "sh",
      "-c",
      `ping -c1 -W1 ${ip} >/dev/null 2>&1 && echo reached; wget -T 1 -qO- http://${ip}/index.html 2>/dev/null && echo reached; true`,
    ]);
    assert.equal(other.code, 0, other.stderr);
    assert.ok(!other.stdout.includes("reached"), `from another network: ${other.stdout}`);
    const vethBefore = links(await ipj(["link", "show", "type", "veth"]));
    assert.equal(vethBefore.length, 1, `web's veth: ${vethBefore}`);
    assert.equal(leases(root), 1);
    const inspect = JSON.parse((await b(["network", "inspect", "front"])).stdout)[0];
    assert.equal(Object.values(inspect.Containers).length, 1);
    assert.equal((await b(["rm", "-f", "web"])).code, 0);
    assert.deepEqual(links(await ipj(["link", "show", "type", "veth"])), []);
    assert.equal(leases(root), 0);
  }));

Deno.test("--network none has only lo; --network host sees the namespace's links", () =>
  withScratchNet(async ({ b, ipj }) => {
    const none = await b(["run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"]);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual(none.stdout.trim().split(/\s+/), ["lo"]);
    assert.equal((await b(["network", "create", "--subnet", "10.63.0.0/24", "mark"])).code, 0);
    // A bridge-mode container makes the network's bridge in the scratch namespace.
    assert.equal((await b(["run", "--rm", "--network", "mark", "busybox", "true"])).code, 0);
    const here = links(await ipj(["link", "show"]));
    assert.ok(here.some((l) => l.startsWith("br-")), `${here}`);
    const host = await b(["run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"]);
    assert.equal(host.code, 0, host.stderr);
    assert.deepEqual(host.stdout.trim().split(/\s+/).sort(), here);
  }));

Deno.test("--ip, --mac-address, --hostname, --add-host (host-gateway), --dns, --dns-search", () =>
  withScratchNet(async ({ b }) => {
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
  withScratchNet(async ({ root, b, ipj }) => {
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
    assert.equal(leases(root), 1);
    assert.equal(links(await ipj(["link", "show", "type", "veth"])).length, 1);
  }));

Deno.test("bridge is the default network unless BERTH_DEFAULT_NETWORK says otherwise; kill -9 of a bridge container's conmon leaves no veth or lease once berth notices", () =>
  withScratchNet(async ({ root, b, ipj }) => {
    // The tests' environment says none (tests/_helpers.ts); empty is berth's own default.
    const bridge = { BERTH_DEFAULT_NETWORK: "" };
    const run = await b(["run", "-d", "--name", "plain", "busybox", "sleep", "60"], bridge);
    assert.equal(run.code, 0, run.stderr);
    const view = await b([
      "inspect",
      "-f",
      "{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}}",
      "plain",
    ]);
    assert.match(view.stdout.trim(), /^bridge 10\.89\.0\.2 10\.89\.0\.1$/);
    assert.ok(links(await ipj(["link", "show"])).includes("berth0"), "the default bridge");
    const eth = await b(["exec", "plain", "ip", "-4", "-o", "addr", "show", "eth0"]);
    assert.match(eth.stdout, /inet 10\.89\.0\.2\/16/);
    const none = await b(["run", "--rm", "busybox", "ls", "/sys/class/net"], {
      BERTH_DEFAULT_NETWORK: "none",
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
    assert.deepEqual(links(await ipj(["link", "show", "type", "veth"])), []);
    assert.equal(leases(root), 0);
  }));
