/**
 * Inspect's shape and the `--format` functions, against Docker's: the key
 * sets below are those of dockerd 20.10's `docker inspect` of a
 * `docker create --network none busybox` (checked here against a private
 * dockerd), and the printed forms those of docker CLI 28.
 */
import assert from "node:assert/strict";
import { withBusybox } from "./_containers.ts";
import { withScratchNet } from "./_netns.ts";
import { goJsonHtml, goQuote } from "../lib/cli/_format.ts";

const TOP_KEYS = [
  "Id",
  "Created",
  "Path",
  "Args",
  "State",
  "Image",
  "ResolvConfPath",
  "HostnamePath",
  "HostsPath",
  "LogPath",
  "Name",
  "RestartCount",
  "Driver",
  "Platform",
  "MountLabel",
  "ProcessLabel",
  "AppArmorProfile",
  "ExecIDs",
  "HostConfig",
  "GraphDriver",
  "Mounts",
  "Config",
  "NetworkSettings",
];

const HOST_CONFIG_KEYS =
  "Binds ContainerIDFile LogConfig NetworkMode PortBindings RestartPolicy AutoRemove VolumeDriver VolumesFrom CapAdd CapDrop CgroupnsMode Dns DnsOptions DnsSearch ExtraHosts GroupAdd IpcMode Cgroup Links OomScoreAdj PidMode Privileged PublishAllPorts ReadonlyRootfs SecurityOpt UTSMode UsernsMode ShmSize Runtime ConsoleSize Isolation CpuShares Memory NanoCpus CgroupParent BlkioWeight BlkioWeightDevice BlkioDeviceReadBps BlkioDeviceWriteBps BlkioDeviceReadIOps BlkioDeviceWriteIOps CpuPeriod CpuQuota CpuRealtimePeriod CpuRealtimeRuntime CpusetCpus CpusetMems Devices DeviceCgroupRules DeviceRequests KernelMemory KernelMemoryTCP MemoryReservation MemorySwap MemorySwappiness OomKillDisable PidsLimit Ulimits CpuCount CpuPercent IOMaximumIOps IOMaximumBandwidth MaskedPaths ReadonlyPaths"
    .split(" ");

const NETWORK_KEYS =
  "Bridge SandboxID HairpinMode LinkLocalIPv6Address LinkLocalIPv6PrefixLen Ports SandboxKey SecondaryIPAddresses SecondaryIPv6Addresses EndpointID Gateway GlobalIPv6Address GlobalIPv6PrefixLen IPAddress IPPrefixLen IPv6Gateway MacAddress Networks"
    .split(" ");

const ENDPOINT_KEYS =
  "IPAMConfig Links Aliases NetworkID EndpointID Gateway IPAddress IPPrefixLen IPv6Gateway GlobalIPv6Address GlobalIPv6PrefixLen MacAddress DriverOpts"
    .split(" ");

const CONFIG_KEYS =
  "Hostname Domainname User AttachStdin AttachStdout AttachStderr Tty OpenStdin StdinOnce Env Cmd Image Volumes WorkingDir Entrypoint OnBuild Labels"
    .split(" ");

/** Docker's keys in Docker's order, wherever they are among berth's own. */
function dockerKeys(object: Record<string, unknown>, wanted: string[]): string[] {
  return Object.keys(object).filter((k) => wanted.includes(k));
}

Deno.test("container inspect has docker's keys in docker's order, zero values where berth has no such feature", async () => {
  await withBusybox(async ({ b }) => {
    const created = await b(["create", "--network", "none", "--name", "shape", "busybox"]);
    assert.equal(created.code, 0, created.stderr);
    const out = await b(["inspect", "shape"]);
    assert.equal(out.code, 0, out.stderr);
    const [c] = JSON.parse(out.stdout);
    assert.deepEqual(dockerKeys(c, TOP_KEYS), TOP_KEYS);
    assert.deepEqual(dockerKeys(c.HostConfig, HOST_CONFIG_KEYS), HOST_CONFIG_KEYS);
    assert.equal(HOST_CONFIG_KEYS.length, 65);
    assert.deepEqual(dockerKeys(c.NetworkSettings, NETWORK_KEYS), NETWORK_KEYS);
    assert.deepEqual(
      dockerKeys(c.NetworkSettings.Networks.none, ENDPOINT_KEYS),
      ENDPOINT_KEYS,
    );
    assert.deepEqual(dockerKeys(c.Config, CONFIG_KEYS), CONFIG_KEYS);
    // Docker leaves these out when unset.
    assert.ok(!("ExposedPorts" in c.Config));
    assert.ok(!("Init" in c.HostConfig));
    assert.equal(c.ExecIDs, null);
    assert.equal(c.AppArmorProfile, "");
    assert.deepEqual(c.HostConfig.LogConfig, { Type: "json-file", Config: {} });
    assert.ok(c.HostConfig.MaskedPaths.includes("/proc/kcore"));
    assert.ok(c.HostConfig.ReadonlyPaths.includes("/proc/sys"));
    // Config.Env is what the image and the user set; the process still gets HOME.
    assert.ok(!c.Config.Env.some((e: string) => e.startsWith("HOME=")));
    const home = await b([
      "run",
      "--rm",
      "--network",
      "none",
      "-e",
      "A=<&>",
      "busybox",
      "sh",
      "-c",
      "echo $HOME",
    ]);
    assert.equal(home.stdout, "/root\n");

    const fmt = await b([
      "inspect",
      "-f",
      "{{.ID}} {{.Id}}|{{.NetworkSettings.IPAddress}}|{{.HostConfig.Ulimits}}",
      "shape",
    ]);
    assert.equal(fmt.code, 0, fmt.stderr);
    assert.equal(fmt.stdout, `${c.Id} ${c.Id}||[]\n`);
    const image = await b(["image", "inspect", "-f", "{{.ID}}={{.Id}}", "busybox"]);
    assert.match(image.stdout, /^(sha256:[0-9a-f]{64})=\1\n$/);
    assert.ok(!JSON.parse((await b(["image", "inspect", "busybox"])).stdout)[0].ID);

    const sized = JSON.parse((await b(["inspect", "-s", "shape"])).stdout)[0];
    assert.equal(sized.SizeRw, 0);
    assert.ok(sized.SizeRootFs > 0);
    assert.ok(!("SizeRw" in c));
  });
});

Deno.test("format functions print as docker's: Ulimits, Label, Labels, Size, quoted Command, JSON escapes", async () => {
  await withBusybox(async ({ b }) => {
    const created = await b([
      "create",
      "--network",
      "none",
      "--name",
      "fmt",
      "--label",
      "com.x-y_z=<b>&",
      "--label",
      "a=1",
      "--ulimit",
      "nofile=1024:2048",
      "--ulimit",
      "nproc=10",
      "busybox",
      "sh",
      "-c",
      'echo "a b" $HOME',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const limits = await b(["inspect", "-f", "{{.HostConfig.Ulimits}}", "fmt"]);
    assert.equal(limits.stdout, "[nofile=1024:2048 nproc=10:10]\n");
    const json = await b(["inspect", "-f", "{{json .HostConfig.Ulimits}}", "fmt"]);
    assert.equal(
      json.stdout,
      '[{"Name":"nofile","Hard":2048,"Soft":1024},{"Name":"nproc","Hard":10,"Soft":10}]\n',
    );

    const row = await b([
      "ps",
      "-a",
      "--no-trunc",
      "--format",
      '{{.Command}}|{{.Labels}}|{{.Label "com.x-y_z"}}|{{.Label "none"}}|{{.Networks}}',
    ]);
    assert.equal(row.code, 0, row.stderr);
    assert.equal(row.stdout, `"sh -c 'echo \\"a b\\" $HOME'"|a=1,com.x-y_z=<b>&|<b>&||none\n`);
    const cut = await b(["ps", "-a", "--format", "{{.Command}}"]);
    assert.equal(cut.stdout, `"sh -c 'echo \\"a b\\" $…"\n`);
    const table = await b(["ps", "-a", "--format", 'table {{.Label "com.x-y_z"}}\t{{.Size}}']);
    assert.match(table.stdout, /^x y z +SIZE\n<b>& +0B \(virtual \d+(\.\d+)?[kM]B\)\n$/);
    const withSize = await b(["ps", "-a", "-s"]);
    assert.match(withSize.stdout.split("\n")[0]!, /NAMES +SIZE$/);
    assert.match(withSize.stdout.split("\n")[1]!, /fmt +0B \(virtual /);

    const rows = await b(["ps", "-a", "--format", "json"]);
    assert.ok(rows.stdout.includes('"Labels":"a=1,com.x-y_z=\\u003cb\\u003e\\u0026"'));
    const keys = Object.keys(JSON.parse(rows.stdout));
    assert.deepEqual(keys, [...keys].sort());
    assert.ok(!keys.includes("Label"));
    // The json template function does not escape, as docker's.
    const fn = await b(["ps", "-a", "--format", "{{json .Labels}}"]);
    assert.equal(fn.stdout, '"a=1,com.x-y_z=<b>&"\n');
    const df = await b(["system", "df", "-v"]);
    assert.equal(df.code, 0, df.stderr);
    assert.match(
      df.stdout,
      /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\nbusybox +latest +[0-9a-f]{12} .* 1\n\nContainers space usage:\n\nCONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES\n[0-9a-f]{12} +busybox +"sh -c 'echo .* +0 +0B .* Created +fmt\n\nLocal Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\n\nBuild cache usage: 0B\n\nCACHE ID +CACHE TYPE +SIZE +CREATED +LAST USED +USAGE +SHARED\n$/,
    );
    const images = await b(["images", "--format", "json"]);
    assert.ok(images.stdout.includes('"Digest":"\\u003cnone\\u003e"'));
  });
});

Deno.test("logs -t prints RFC 3339 times with nine fraction digits", async () => {
  await withBusybox(async ({ b }) => {
    const ran = await b([
      "run",
      "--network",
      "none",
      "--name",
      "lg",
      "busybox",
      "sh",
      "-c",
      "echo one; echo two",
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    const out = await b(["logs", "-t", "lg"]);
    const lines = out.stdout.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (one|two)$/);
    }
    // Sub-millisecond digits are the clock's, not zero padding.
    assert.ok(lines.some((l) => !/\.\d{3}000000Z/.test(l)), out.stdout);
  });
});

Deno.test("goQuote is strconv.Quote and goJsonHtml is encoding/json's default escaping", () => {
  assert.equal(goQuote(`sh -c 'echo "a\\b"'`), `"sh -c 'echo \\"a\\\\b\\"'"`);
  assert.equal(goQuote("a\tb\nc\x01é…"), '"a\\tb\\nc\\x01é…"');
  assert.equal(goJsonHtml({ a: "<b>&\u2028" }), '{"a":"\\u003cb\\u003e\\u0026\\u2028"}');
});

/** Bytes of a size as go-units HumanSize prints it (`5.24MB`, `648B`). */
function sizeBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(B|kB|MB|GB)$/.exec(text);
  assert.ok(m !== null, `not a size: ${text}`);
  return Number(m[1]) * 1000 ** ["B", "kB", "MB", "GB"].indexOf(m[2]!);
}

/** The `RX / TX` (or read / write) pair of a stats column, in bytes. */
function ioPair(text: string): [number, number] {
  const parts = text.split(" / ");
  assert.equal(parts.length, 2, text);
  return [sizeBytes(parts[0]!), sizeBytes(parts[1]!)];
}

Deno.test("stats counts a container's block writes; NET I/O is 0B / 0B without a network; rm leaves no cgroup", async () => {
  await withBusybox(async ({ b }) => {
    const ran = await b([
      ...["run", "-d", "--network", "none", "--name", "io", "busybox", "sh", "-c"],
      "dd if=/dev/zero of=/f bs=1M count=5 oflag=direct 2>/dev/null && touch /done; sleep 60",
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    const id = ran.stdout.trim();
    for (let i = 0; i < 100 && (await b(["exec", "io", "test", "-e", "/done"])).code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = await b(["stats", "--no-stream", "--format", "{{.BlockIO}}|{{.NetIO}}", "io"]);
    assert.equal(out.code, 0, out.stderr);
    const [block, net] = out.stdout.trim().split("|") as [string, string];
    // 5 MiB printed with three digits: 5.24MB.
    assert.ok(ioPair(block)[1] >= 5_000_000, out.stdout);
    assert.equal(net, "0B / 0B");
    assert.equal((await b(["rm", "-f", "io"])).code, 0);
    for (const ctrl of Deno.readDirSync("/sys/fs/cgroup")) {
      const dir = `/sys/fs/cgroup/${ctrl.name}/berth/${id}`;
      assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound, `${dir} left`);
    }
  });
});

Deno.test("stats NET I/O of a container on a bridge network sums its interfaces, as the veth's far end counts them", () =>
  withScratchNet({ tag: "st" }, async ({ b, ipj }) => {
    const net = await b(["network", "create", "--subnet", "10.64.0.0/24", "st"]);
    assert.equal(net.code, 0, net.stderr);
    const ran = await b([
      ...["run", "-d", "--network", "st", "--name", "nio", "busybox", "sh", "-c"],
      "ping -c 3 -s 1000 10.64.0.1 >/dev/null && touch /done; sleep 60",
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    for (let i = 0; i < 100 && (await b(["exec", "nio", "test", "-e", "/done"])).code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = await b(["stats", "--no-stream", "--format", "{{.NetIO}}", "nio"]);
    assert.equal(out.code, 0, out.stderr);
    const [rx, tx] = ioPair(out.stdout.trim());
    // Read after stats: the counters only grow. What the container received, its veth's
    // other end in the scratch namespace sent; HumanSize's three digits may round up 0.5%.
    const [veth] = await ipj(["-s", "link", "show", "type", "veth"]) as {
      stats64: { rx: { bytes: number }; tx: { bytes: number } };
    }[];
    assert.ok(veth !== undefined, "the container's veth");
    assert.ok(
      rx >= 3000 && rx <= veth.stats64.tx.bytes * 1.005,
      `${out.stdout} ${veth.stats64.tx.bytes}`,
    );
    assert.ok(
      tx >= 3000 && tx <= veth.stats64.rx.bytes * 1.005,
      `${out.stdout} ${veth.stats64.rx.bytes}`,
    );
  }));
