/**
 * Outbound NAT, `--internal` and isolation, end to end. berth runs inside
 * a scratch network namespace (`berth-test-N4-...`, as in
 * container_networks_test.ts); a second one stands for "the outside": it
 * is joined to berth's namespace by a veth and has no route to any
 * container subnet, so its HTTP server (which answers with the client's
 * address) is reachable from a container only through masquerade.
 */
import assert from "node:assert/strict";
import { berthArgs, makeRootfs, type Run, withTempDir } from "./_helpers.ts";
import { processesMentioning } from "./_containers.ts";

async function sh(cmd: string, args: string[]): Promise<Run> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

async function must(cmd: string, args: string[]): Promise<string> {
  const out = await sh(cmd, args);
  assert.equal(out.code, 0, `${cmd} ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

interface NatEnv {
  ns: string;
  b: (args: string[]) => Promise<Run>;
}

const SERVER =
  "Deno.serve({ hostname: '10.200.0.2', port: 8080, onListen() { console.log('up') } }, " +
  "(_req, info) => new Response(info.remoteAddr.hostname + '\\n'))";

/** berth's scratch namespace, "the outside" joined to it by a veth, and its server. */
async function withOutside(fn: (env: NatEnv) => Promise<void>): Promise<void> {
  const tag = crypto.randomUUID().slice(0, 8);
  const ns = `berth-test-N4-${tag}`;
  const out = `berth-test-N4-out-${tag}`;
  let server: Deno.ChildProcess | undefined;
  await must("ip", ["netns", "add", ns]);
  try {
    await must("ip", ["netns", "add", out]);
    await must("ip", [
      "-n",
      ns,
      "link",
      "add",
      "up0",
      "type",
      "veth",
      "peer",
      "name",
      "down0",
      "netns",
      out,
    ]);
    await must("ip", ["-n", ns, "addr", "add", "10.200.0.1/24", "dev", "up0"]);
    await must("ip", ["-n", ns, "link", "set", "up0", "up"]);
    await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await must("ip", ["-n", out, "addr", "add", "10.200.0.2/24", "dev", "down0"]);
    await must("ip", ["-n", out, "link", "set", "down0", "up"]);
    await must("ip", ["-n", out, "link", "set", "lo", "up"]);
    server = new Deno.Command("nsenter", {
      args: [`--net=/run/netns/${out}`, Deno.execPath(), "eval", SERVER],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = server.stdout.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /up/);
    reader.releaseLock();
    await withTempDir(async (dir) => {
      const root = `${dir}/root`;
      const b = async (args: string[]): Promise<Run> =>
        await sh("nsenter", [
          `--net=/run/netns/${ns}`,
          Deno.execPath(),
          ...berthArgs(root, ["--run-root", `${dir}/run`, ...args]),
        ]);
      const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
      const imported = await b(["import", "--change", 'CMD ["sh"]', tarball, "busybox"]);
      assert.equal(imported.code, 0, imported.stderr);
      try {
        await fn({ ns, b });
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
    if (server !== undefined) {
      try {
        server.kill("SIGTERM");
      } catch {
        // ended already
      }
      await server.stdout.cancel().catch(() => {});
      await server.status;
    }
    await sh("ip", ["netns", "delete", out]);
    await sh("ip", ["netns", "delete", ns]);
  }
}

const FETCH =
  "for i in 1 2 3; do timeout 3 wget -qO- http://10.200.0.2:8080/ && exit 0; sleep 0.2; done; exit 1";

Deno.test("a container reaches the outside only through masquerade; --internal cannot; networks are isolated", () =>
  withOutside(async ({ ns, b }) => {
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
    const outbound = await b(["run", "--rm", "--network", "front", "busybox", "sh", "-c", FETCH]);
    assert.equal(outbound.code, 0, outbound.stderr);
    assert.equal(outbound.stdout.trim(), "10.200.0.1");
    const forward = await must("nsenter", [
      `--net=/run/netns/${ns}`,
      "cat",
      "/proc/sys/net/ipv4/ip_forward",
    ]);
    assert.equal(forward.trim(), "1");
    // Without the masquerade rule the outside has no way back: the same fetch fails.
    const ruleset = await must("ip", ["netns", "exec", ns, "nft", "list", "table", "ip", "berth"]);
    assert.match(ruleset, /ip saddr 10\.71\.0\.0\/24 oifname != "br-[0-9a-f]+" masquerade/);
    assert.doesNotMatch(ruleset, /10\.73\.0\.0\/24/, "no masquerade for an internal network");
    // --internal: no route out, and the bridge forwards nothing even with one added.
    const inner = await b([
      "run",
      "--rm",
      "--network",
      "inner",
      "busybox",
      "sh",
      "-c",
      "ip route add default via 10.73.0.1 2>/dev/null; timeout 3 wget -qO- http://10.200.0.2:8080/ && echo reached; true",
    ]);
    assert.equal(inner.code, 0, inner.stderr);
    assert.ok(!inner.stdout.includes("reached"), `internal reached out: ${inner.stdout}`);
    // Isolation: with forwarding on, front cannot reach back.
    const web = await b([
      "run",
      "-d",
      "--name",
      "web",
      "--network",
      "back",
      "busybox",
      "sh",
      "-c",
      "echo hi > /tmp/index.html; httpd -f -p 80 -h /tmp",
    ]);
    assert.equal(web.code, 0, web.stderr);
    const ip = (await b(["inspect", "-f", "{{.NetworkSettings.Networks.back.IPAddress}}", "web"]))
      .stdout.trim();
    const same = await b([
      "run",
      "--rm",
      "--network",
      "back",
      "busybox",
      "sh",
      "-c",
      `for i in 1 2 3 4 5 6 7 8 9 10; do timeout 3 wget -qO- http://${ip}/index.html && exit 0; sleep 0.2; done; exit 1`,
    ]);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout.trim(), "hi");
    const across = await b([
      "run",
      "--rm",
      "--network",
      "front",
      "busybox",
      "sh",
      "-c",
      `timeout 3 wget -qO- http://${ip}/index.html && echo reached; true`,
    ]);
    assert.equal(across.code, 0, across.stderr);
    assert.ok(!across.stdout.includes("reached"), `across networks: ${across.stdout}`);
  }));
