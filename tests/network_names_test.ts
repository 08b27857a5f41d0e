/**
 * Names on networks, end to end: containers on a user-defined network
 * resolve each other by name, alias and short ID through /etc/hosts files
 * that berth keeps current as containers come and go (no resident daemon),
 * `network connect`/`disconnect` of running and stopped containers, and
 * their refusals. berth runs only inside a scratch network namespace each
 * test makes and removes (tests/_netns.ts).
 */
import assert from "node:assert/strict";
import { ok, retry, type Scratch, withScratchNet } from "./_netns.ts";

/** A scratch namespace; when the test passes, `rm -f` of every container leaves no veth or lease. */
function withNames(fn: (env: Scratch) => Promise<void>): Promise<void> {
  return withScratchNet({ tag: "C1" }, async (env) => {
    const { b, containers, veths, leases } = env;
    await fn(env);
    for (const id of await containers()) assert.equal((await b(["rm", "-f", id])).code, 0);
    assert.deepEqual(await veths(), [], "no veth is left");
    assert.equal(leases(), 0, "no lease is left");
  });
}

const HTTPD =
  "mkdir -p /www && echo page-of-$(hostname) > /www/index.html && httpd -f -p 80 -h /www";

Deno.test("a user network resolves names, aliases and short IDs; a later container too; a stopped one is gone", () =>
  withNames(async ({ b }) => {
    await ok(b, ["network", "create", "--subnet", "10.71.0.0/24", "app"]);
    await ok(b, [
      "run",
      "-d",
      "--name",
      "web",
      "--hostname",
      "web",
      "--network",
      "app",
      "--network-alias",
      "www",
      "--network-alias",
      "site",
      "busybox",
      "sh",
      "-c",
      HTTPD,
    ]);
    const one = (await ok(b, [
      "run",
      "-d",
      "--name",
      "one",
      "--network",
      "app",
      "busybox",
      "sleep",
      "60",
    ])).trim();
    const webId = (await ok(b, ["inspect", "-f", "{{.Id}}", "web"])).trim();
    const client = await b([
      "exec",
      "one",
      "sh",
      "-c",
      `ping -c1 -W2 web >/dev/null && ping -c1 -W2 www >/dev/null && ` +
      `ping -c1 -W2 ${webId.slice(0, 12)} >/dev/null && ` + retry("wget -q -O- http://site/"),
    ]);
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout.trim(), "page-of-web");
    const aliases = JSON.parse(
      await ok(b, ["inspect", "-f", "{{json .NetworkSettings.Networks.app}}", "web"]),
    );
    assert.deepEqual(aliases.Aliases, ["www", "site"]);
    assert.deepEqual(aliases.DNSNames, ["web", "www", "site", webId.slice(0, 12)]);
    // A third container, started later, is resolvable from the first without a restart.
    await ok(b, ["run", "-d", "--name", "late", "--network", "app", "busybox", "sleep", "60"]);
    const lateIp = (await ok(b, [
      "inspect",
      "-f",
      "{{.NetworkSettings.Networks.app.IPAddress}}",
      "late",
    ])).trim();
    const seen = await b([
      "exec",
      one,
      "sh",
      "-c",
      "ping -c1 -W2 late >/dev/null && cat /etc/hosts",
    ]);
    assert.equal(seen.code, 0, seen.stderr);
    assert.match(
      seen.stdout,
      new RegExp(`^${lateIp.replaceAll(".", "\\.")}\\tlate [0-9a-f]{12}$`, "m"),
    );
    // Once it stops, the others' /etc/hosts lose it.
    await ok(b, ["stop", "-t", "0", "late"]);
    const after = await ok(b, ["exec", one, "cat", "/etc/hosts"]);
    assert.ok(!/\blate\b/.test(after), after);
    assert.match(after, /\tweb www site [0-9a-f]{12}\n/);
    const miss = await b(["exec", one, "ping", "-c1", "-W1", "late"]);
    assert.notEqual(miss.code, 0);
  }));

Deno.test("the default bridge resolves no names", () =>
  withNames(async ({ b }) => {
    await ok(b, ["run", "-d", "--name", "a1", "--network", "bridge", "busybox", "sleep", "60"]);
    await ok(b, ["run", "-d", "--name", "a2", "--network", "bridge", "busybox", "sleep", "60"]);
    const hosts = await ok(b, ["exec", "a1", "cat", "/etc/hosts"]);
    assert.ok(!/\ba2\b/.test(hosts), hosts);
    const ping = await b(["exec", "a1", "ping", "-c1", "-W1", "a2"]);
    assert.notEqual(ping.code, 0, ping.stdout);
    const alias = await b([
      "run",
      "--rm",
      "--network",
      "bridge",
      "--network-alias",
      "x",
      "busybox",
      "true",
    ]);
    assert.equal(alias.code, 125);
    assert.equal(
      alias.stderr.trim().split("\n").length,
      1,
      alias.stderr,
    );
    assert.match(
      alias.stderr,
      /network-scoped alias is supported only for containers in user defined networks/,
    );
  }));

Deno.test("network connect gives a running container eth1 and the names there; disconnect takes both away", () =>
  withNames(async ({ b, veths, leases }) => {
    await ok(b, ["network", "create", "--subnet", "10.72.0.0/24", "front"]);
    await ok(b, ["network", "create", "--subnet", "10.73.0.0/24", "back"]);
    await ok(b, [
      "run",
      "-d",
      "--name",
      "db",
      "--hostname",
      "db",
      "--network",
      "back",
      "busybox",
      "sh",
      "-c",
      HTTPD,
    ]);
    const app =
      (await ok(b, ["run", "-d", "--name", "app", "--network", "front", "busybox", "sleep", "60"]))
        .trim();
    assert.notEqual((await b(["exec", "app", "ping", "-c1", "-W1", "db"])).code, 0);
    assert.equal(
      (await b(["network", "connect", "--alias", "api", "--ip", "10.73.0.50", "back", "app"])).code,
      0,
    );
    const links = await ok(b, ["exec", "app", "ls", "/sys/class/net"]);
    assert.deepEqual(links.trim().split(/\s+/).sort(), ["eth0", "eth1", "lo"]);
    const addr = await ok(b, ["exec", "app", "ip", "-4", "-o", "addr", "show", "eth1"]);
    assert.match(addr, /inet 10\.73\.0\.50\/24/);
    const got = await b(["exec", "app", "sh", "-c", retry("wget -q -O- http://db/")]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout.trim(), "page-of-db");
    // db resolves app by its alias on back.
    assert.equal((await b(["exec", "db", "ping", "-c1", "-W2", "api"])).code, 0);
    const inspect = JSON.parse(await ok(b, ["inspect", app]))[0].NetworkSettings.Networks;
    assert.deepEqual(Object.keys(inspect), ["front", "back"]);
    assert.equal(inspect.back.IPAddress, "10.73.0.50");
    assert.deepEqual(inspect.back.IPAMConfig, { IPv4Address: "10.73.0.50" });
    const back = JSON.parse(await ok(b, ["network", "inspect", "back"]))[0];
    assert.equal(Object.keys(back.Containers).length, 2);
    assert.equal((await veths()).length, 3);
    assert.equal(leases(), 3);
    // Disconnect: eth1 and the name go, and the lease.
    assert.equal((await b(["network", "disconnect", "back", "app"])).code, 0);
    const left = await ok(b, ["exec", "app", "ls", "/sys/class/net"]);
    assert.deepEqual(left.trim().split(/\s+/).sort(), ["eth0", "lo"]);
    const hosts = await ok(b, ["exec", "app", "cat", "/etc/hosts"]);
    assert.ok(!/\bdb\b/.test(hosts), hosts);
    assert.ok(!/\bapi\b/.test(await ok(b, ["exec", "db", "cat", "/etc/hosts"])));
    assert.equal((await veths()).length, 2);
    assert.equal(leases(), 2);
  }));

Deno.test("network connect of a stopped container is joined at its next start", () =>
  withNames(async ({ b, veths }) => {
    await ok(b, ["network", "create", "--subnet", "10.74.0.0/24", "n1"]);
    await ok(b, ["network", "create", "--subnet", "10.75.0.0/24", "n2"]);
    await ok(b, ["create", "--name", "st", "--network", "n1", "busybox", "sleep", "60"]);
    await ok(b, ["network", "connect", "n2", "st"]);
    assert.deepEqual(await veths(), []);
    const listed = await ok(b, ["inspect", "-f", "{{json .NetworkSettings.Networks}}", "st"]);
    assert.deepEqual(Object.keys(JSON.parse(listed)), ["n1", "n2"]);
    await ok(b, ["start", "st"]);
    const addrs = await ok(b, ["exec", "st", "ip", "-4", "-o", "addr"]);
    assert.match(addrs, /eth0\s+inet 10\.74\.0\.\d+\/24/);
    assert.match(addrs, /eth1\s+inet 10\.75\.0\.\d+\/24/);
    const routes = await ok(b, ["exec", "st", "ip", "route"]);
    assert.match(routes, /^default via 10\.74\.0\.1 dev eth0/m);
    assert.equal((await veths()).length, 2);
    await ok(b, ["stop", "-t", "0", "st"]);
    assert.deepEqual(await veths(), []);
    await ok(b, ["network", "disconnect", "n2", "st"]);
    const now = await ok(b, ["inspect", "-f", "{{json .NetworkSettings.Networks}}", "st"]);
    assert.deepEqual(Object.keys(JSON.parse(now)), ["n1"]);
  }));

Deno.test("connect/disconnect refusals: one line, exit 1, nothing half-made", () =>
  withNames(async ({ b, veths, leases }) => {
    await ok(b, ["network", "create", "--subnet", "10.76.0.0/24", "m1"]);
    await ok(b, ["network", "create", "--subnet", "10.77.0.0/24", "m2"]);
    await ok(b, ["run", "-d", "--name", "ctr", "--network", "m1", "busybox", "sleep", "60"]);
    await ok(b, ["run", "-d", "--name", "hc", "--network", "host", "busybox", "sleep", "60"]);
    await ok(b, ["run", "-d", "--name", "zc", "--network", "none", "busybox", "sleep", "60"]);
    const before = await ok(b, ["inspect", "ctr", "hc", "zc"]);
    const cases: [string[], RegExp][] = [
      [["connect", "nosuch", "ctr"], /^Error: network nosuch not found$/],
      [["connect", "m1", "nosuch"], /No such container: nosuch/],
      [["connect", "m1", "ctr"], /container [0-9a-f]{64} is already connected to network m1/],
      [
        ["connect", "host", "ctr"],
        /container cannot be disconnected from host network or connected to host network/,
      ],
      [["connect", "m2", "hc"], /sharing network namespace with another container or host/],
      [["connect", "m2", "zc"], /one of the networks in private \(none\) mode/],
      [
        ["connect", "--ip", "10.99.0.5", "m2", "ctr"],
        /no configured subnet|does not belong|not in/i,
      ],
      [
        ["connect", "--alias", "x", "bridge", "ctr"],
        /network-scoped alias is supported only for containers in user defined networks/,
      ],
      [["disconnect", "m2", "ctr"], /container [0-9a-f]{64} is not connected to network m2/],
      [["disconnect", "nosuch", "ctr"], /network nosuch not found/],
      [
        ["disconnect", "host", "hc"],
        /container cannot be disconnected from host network or connected to host network/,
      ],
    ];
    for (const [args, message] of cases) {
      const out = await b(["network", ...args]);
      assert.equal(out.code, 1, `${args.join(" ")}: ${out.stderr}`);
      assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
      assert.match(out.stderr.trim(), message);
    }
    assert.equal(await ok(b, ["inspect", "ctr", "hc", "zc"]), before, "no record changed");
    assert.equal((await veths()).length, 1);
    assert.equal(leases(), 1);
    const links = await ok(b, ["exec", "ctr", "ls", "/sys/class/net"]);
    assert.deepEqual(links.trim().split(/\s+/).sort(), ["eth0", "lo"]);
  }));

Deno.test("rename: the others resolve a running container by its new name, not its old one", () =>
  withNames(async ({ b }) => {
    await ok(b, ["network", "create", "--subnet", "10.76.0.0/24", "ren"]);
    await ok(b, ["run", "-d", "--name", "r1", "--network", "ren", "busybox", "sleep", "60"]);
    await ok(b, ["run", "-d", "--name", "old", "--network", "ren", "busybox", "sleep", "60"]);
    assert.equal((await b(["exec", "r1", "ping", "-c1", "-W1", "old"])).code, 0);
    await ok(b, ["rename", "old", "new"]);
    const ping = await b(["exec", "r1", "ping", "-c1", "-W1", "new"]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const hosts = await ok(b, ["exec", "r1", "cat", "/etc/hosts"]);
    assert.ok(!/\bold\b/.test(hosts), hosts);
    const names = await ok(b, [
      "inspect",
      "-f",
      "{{json .NetworkSettings.Networks.ren.DNSNames}}",
      "new",
    ]);
    assert.match(names, /^\["new",/);
  }));
