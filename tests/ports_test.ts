/**
 * Port publishing end to end (`-p`, `-P`, `port`, ps PORTS). berth runs only
 * inside a scratch network namespace each test makes (`berth-test-N5-...`)
 * and removes afterwards; the client (a Deno fetch) runs in that namespace
 * too, so requests to 127.0.0.1 go through berth's output-chain DNAT.
 */
import assert from "node:assert/strict";
import { type Scratch, startIn, withScratchNet } from "./_netns.ts";

/**
 * A scratch namespace with lo up and a network `pub`; afterwards nothing per
 * container is left (no veth, no DNAT rule) and `network rm pub` takes the bridge.
 */
function withPub(fn: (env: Scratch) => Promise<void>): Promise<void> {
  return withScratchNet({ tag: "N5" }, async (env) => {
    const { b, inNs, links, removeAll } = env;
    assert.equal((await inNs("ip", ["link", "set", "lo", "up"])).code, 0);
    const net = await b(["network", "create", "--subnet", "10.63.0.0/24", "pub"]);
    assert.equal(net.code, 0, net.stderr);
    try {
      await fn(env);
    } finally {
      await removeAll();
      const left = await links();
      assert.ok(!left.some((l) => /^vb[0-9a-f]{12}$/.test(l)), `${left}`);
      const table = await inNs("nft", ["list", "table", "ip", "berth"]);
      assert.ok(!table.stdout.includes("dnat"), table.stdout);
      const rm = await b(["network", "rm", "pub"]);
      assert.equal(rm.code, 0, rm.stderr);
      const after = await links();
      assert.ok(!after.some((l) => l.startsWith("br-")), `the network's bridge is gone: ${after}`);
    }
  });
}

function page(dir: string, text: string): string {
  const www = `${dir}/www`;
  Deno.mkdirSync(www);
  Deno.writeTextFileSync(`${www}/index.html`, `${text}\n`);
  return www;
}

Deno.test("-p 127.0.0.1:18080:80 serves the page on the host side; port, ps; a second run on the port fails and leaves nothing", () =>
  withPub(async ({ dir, b, inNs, fetchIn }) => {
    const www = page(dir, "hello from berth");
    const mount = `type=bind,source=${www},destination=/www`;
    const run = await b([
      ...["run", "-d", "--name", "web", "--network", "pub", "-p", "127.0.0.1:18080:80"],
      ...["--mount", mount, "busybox", "httpd", "-f", "-p", "80", "-h", "/www"],
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await fetchIn("http://127.0.0.1:18080/"), "hello from berth");
    assert.equal((await b(["port", "web"])).stdout, "80/tcp -> 127.0.0.1:18080\n");
    assert.equal((await b(["port", "web", "80"])).stdout, "127.0.0.1:18080\n");
    const none = await b(["port", "web", "81"]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /No public port '81\/tcp' published for web/);
    const ps = await b(["ps", "--format", "{{.Ports}}"]);
    assert.equal(ps.stdout, "127.0.0.1:18080->80/tcp\n");
    const before = (await b(["ps", "-aq"])).stdout;
    const again = await b([
      ...["run", "-d", "--network", "pub", "-p", "127.0.0.1:18080:80", "busybox", "sleep", "60"],
    ]);
    assert.equal(again.code, 125);
    assert.match(again.stderr, /Bind for 127\.0\.0\.1:18080 failed: port is already allocated/);
    assert.equal((await b(["ps", "-aq"])).stdout, before, "no container is left");
    for (
      const [spec, message] of [["70000:80", "invalid hostPort: 70000"], [
        "80/xyz",
        "invalid proto: xyz",
      ]]
    ) {
      const bad = await b(["run", "-d", "--network", "pub", "-p", spec!, "busybox", "true"]);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, new RegExp(message!));
      assert.equal((await b(["ps", "-aq"])).stdout, before, "no container is left");
    }
    // stopped: its forward is gone from the table, its ports from port and ps
    assert.equal((await b(["rm", "-f", "web"])).code, 0);
    const table = await inNs("nft", ["list", "table", "ip", "berth"]);
    assert.ok(!table.stdout.includes("18080"), table.stdout);
  }));

Deno.test("the seed's example: -P publishes the image's EXPOSE 80 on a random port, port web 80 finds it", () =>
  withPub(async ({ dir, b, importBusybox, fetchIn }) => {
    await importBusybox("webapp", ["EXPOSE 80"]);
    const www = page(dir, "the web app");
    const run = await b([
      ...["run", "-d", "-P", "--name", "web", "--network", "pub"],
      ...["--mount", `type=bind,source=${www},destination=/opt/webapp`],
      ...["webapp", "httpd", "-f", "-p", "80", "-h", "/opt/webapp"],
    ]);
    assert.equal(run.code, 0, run.stderr);
    const port = await b(["port", "web", "80"]);
    assert.equal(port.code, 0, port.stderr);
    const m = /^0\.0\.0\.0:(\d+)\n$/.exec(port.stdout);
    assert.ok(m, port.stdout);
    assert.ok(Number(m[1]) >= 32768 && Number(m[1]) <= 60999, port.stdout);
    assert.equal(await fetchIn(`http://127.0.0.1:${m[1]}/`), "the web app");
    const ps = await b(["ps", "--format", "{{.Ports}}"]);
    assert.equal(ps.stdout, `0.0.0.0:${m[1]}->80/tcp\n`);
  }));

Deno.test("a host port a process has bound fails the run with Docker's message and leaves nothing", () =>
  withPub(async ({ ns, b }) => {
    const code = `const l = Deno.listen({ hostname: "127.0.0.1", port: 18081 }); ` +
      `console.log("ready"); for await (const c of l) c.close();`;
    const listener = await startIn(ns, code, /ready/);
    try {
      const run = await b([
        ...["run", "-d", "--network", "pub", "-p", "18081:80", "busybox", "sleep", "60"],
      ]);
      assert.equal(run.code, 125);
      assert.match(run.stderr, /Bind for 0\.0\.0\.0:18081 failed: port is already allocated/);
      assert.equal((await b(["ps", "-aq"])).stdout, "", "no container is left");
    } finally {
      await listener.stop();
    }
  }));
