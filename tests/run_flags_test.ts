/**
 * run/create/exec flags of issue 13: groups, rlimits, namespaces, limits,
 * cidfile, pull, health, log size, and Docker's errors for bad values: 125 for
 * a flag the CLI refuses, 1 from create (125 from run) for one the daemon refuses.
 */
import assert from "node:assert/strict";
import { withBusybox } from "./_containers.ts";
import { startRegistry } from "./registry_client/_helpers.ts";

Deno.test("run: groups, group-add, rlimits, shm, sysctl, uts", async () => {
  await withBusybox(async ({ b }) => {
    const id = async (args: string[]) =>
      (await b(["run", "--rm", ...args, "busybox", "id"])).stdout;
    assert.match(await id(["-u", "1000:1000"]), /uid=1000 gid=1000 groups=1000\n/);
    assert.match(await id(["--group-add", "5", "--group-add", "10"]), /groups=0\(root\),5,10\n/);
    const limits = await b(["run", "--rm", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn"]);
    const [soft, hard] = limits.stdout.trim().split("\n").map(Number);
    assert.equal(soft, hard, "nofile soft = hard, not the shell's");
    assert.ok(soft! > 1024 || soft === 1048576);
    const shm = await b(["run", "--rm", "--shm-size", "1m", "busybox", "df", "/dev/shm"]);
    assert.match(shm.stdout, /\s1024\s/);
    const sysctl = await b([
      "run",
      "--rm",
      "--sysctl",
      "kernel.shmmax=123456",
      "busybox",
      "cat",
      "/proc/sys/kernel/shmmax",
    ]);
    assert.equal(sysctl.stdout, "123456\n");
    const uts = await b(["run", "--rm", "--uts", "host", "busybox", "hostname"]);
    assert.equal(uts.stdout.trim(), Deno.hostname());
  });
});

Deno.test("run/create: a flag the CLI refuses exits 125, with Docker's message", async () => {
  await withBusybox(async ({ b }) => {
    const cases: [string[], RegExp][] = [
      [
        ["--pull", "bogus"],
        /invalid pull option: 'bogus': must be one of "always", "missing" or "never"/,
      ],
      [["--ipc", "bogus"], /--ipc: invalid IPC mode/],
      [["--pid", "bogus"], /--pid: invalid PID mode/],
      [["--uts", "bogus"], /--uts: invalid UTS mode/],
      [["--cgroupns", "bogus"], /--cgroupns: invalid CGROUP mode/],
      [["--sysctl", "kernel.foo=1"], /sysctl 'kernel.foo=1' is not allowed/],
      [["-a", "bogus"], /valid streams are STDIN, STDOUT and STDERR/],
      [
        ["--no-healthcheck", "--health-cmd", "true"],
        /--no-healthcheck conflicts with --health-\* options/,
      ],
      [["--health-interval", "bogus"], /time: invalid duration "bogus"/],
      [["--shm-size", "x"], /invalid argument "x" for "--shm-size" flag/],
      [
        ["--log-driver", "none", "--log-opt", "max-size=1k"],
        /invalid logging opts for driver none/,
      ],
      [
        ["--restart", "always", "--rm"],
        /conflicting options: cannot specify both --restart and --rm/,
      ],
      // A flag error comes before any value the daemon would refuse.
      [["--memory", "1k", "--shm-size", "x"], /invalid argument "x" for "--shm-size" flag/],
    ];
    for (const [flags, message] of cases) {
      for (const command of ["create", "run"]) {
        const r = await b([command, ...flags, "busybox", "true"]);
        assert.equal(r.code, 125, `${command} ${flags.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
    }
    assert.equal((await b(["ps", "-aq"])).stdout, "", "nothing half-made");
  });
});

Deno.test("create: a value the daemon refuses exits 1 (run: 125), with Docker's message", async () => {
  await withBusybox(async ({ b, dir }) => {
    const cases: [string[], RegExp][] = [
      [
        ["--oom-score-adj", "2000"],
        /Invalid value 2000, range for oom score adj is \[-1000, 1000\]/,
      ],
      [
        ["--log-driver", "bogus"],
        /error looking up logging plugin bogus: plugin "bogus" not found/,
      ],
      [["--log-opt", "bogus=1"], /unknown log opt 'bogus' for json-file log driver/],
      [["--log-opt", "foo"], /unknown log opt 'foo' for json-file log driver/],
      [
        ["--pull", "never", "--platform", "linux/s390x"],
        /image with reference busybox was found but does not match the specified platform: wanted linux\/s390x, actual: linux\//,
      ],
      [["--memory", "1k"], /Minimum memory limit allowed is 6MB/],
      [["--memory-reservation", "1k"], /Minimum memory reservation allowed is 6MB/],
      [["--cpu-period", "10"], /CPU cfs period can not be less than 1ms/],
      [["--cpu-quota", "10"], /CPU cfs quota can not be less than 1ms/],
      [["--cpus", "1", "--cpu-period", "100000"], /Nano CPUs and CPU Period cannot both be set/],
      [["--cpuset-cpus", "4096"], /Requested CPUs are not available - requested 4096, available: /],
    ];
    for (const [flags, message] of cases) {
      for (const [command, code] of [["create", 1], ["run", 125]] as const) {
        const r = await b([command, ...flags, "busybox", "true"]);
        assert.equal(r.code, code, `${command} ${flags.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
    }
    assert.equal((await b(["ps", "-aq"])).stdout, "", "nothing half-made");
    const cid = `${dir}/cid`;
    const made = await b(["create", "--cidfile", cid, "busybox"]);
    assert.equal(Deno.readTextFileSync(cid), made.stdout.trim());
    for (const [command, code] of [["create", 1], ["run", 125]] as const) {
      const again = await b([command, "--cidfile", cid, "busybox", "true"]);
      assert.equal(again.code, code, command);
      assert.match(
        again.stderr,
        /container ID file found, make sure the other container isn't running or delete /,
      );
    }
    assert.equal((await b(["ps", "-aq"])).stdout.trim().split("\n").length, 1, "one created");
  });
});

Deno.test("--platform: an image here for another platform counts as missing and is pulled", async () => {
  await withBusybox(async ({ b }) => {
    // Nothing listens on port 1: the pull fails at once, and nothing is made.
    assert.equal((await b(["tag", "busybox", "127.0.0.1:1/bb"])).code, 0);
    for (const [command, code] of [["create", 1], ["run", 125]] as const) {
      const r = await b([command, "--platform", "linux/s390x", "127.0.0.1:1/bb", "true"]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, /^Unable to find image '127\.0\.0\.1:1\/bb:latest' locally\n/);
      assert.match(r.stderr, /127\.0\.0\.1:1/);
    }
    assert.equal((await b(["ps", "-aq"])).stdout, "", "nothing half-made");
    // The host's own platform is the image's: no pull.
    const host = await b(["run", "--rm", "--platform", "linux", "127.0.0.1:1/bb", "echo", "ok"]);
    assert.equal(host.stdout, "ok\n", host.stderr);
    assert.equal(host.stderr, "");
  });
});

Deno.test("create: health flags merge into Config.Healthcheck, limits into HostConfig", async () => {
  await withBusybox(async ({ b }) => {
    const id = (await b([
      "create",
      "--health-cmd",
      "true",
      "--health-interval",
      "2s",
      "--health-retries",
      "4",
      "--memory-reservation",
      "10m",
      "--cpuset-cpus",
      "0",
      "--ipc",
      "shareable",
      "busybox",
    ])).stdout.trim();
    const r = await b(["inspect", "--format", "{{json .Config.Healthcheck}}", id]);
    assert.deepEqual(JSON.parse(r.stdout), {
      Test: ["CMD-SHELL", "true"],
      Interval: 2e9,
      Retries: 4,
    });
    const h = await b([
      "inspect",
      "--format",
      "{{.HostConfig.MemoryReservation}} {{.HostConfig.CpusetCpus}} {{.HostConfig.IpcMode}}",
      id,
    ]);
    assert.equal(h.stdout.trim(), "10485760 0 shareable");
    const none = (await b(["create", "--no-healthcheck", "busybox"])).stdout.trim();
    const n = await b(["inspect", "--format", "{{json .Config.Healthcheck}}", none]);
    assert.deepEqual(JSON.parse(n.stdout), { Test: ["NONE"] });
  });
});

Deno.test("exec: --env-file, -t sets TERM, --privileged; run -a; stop --timeout", async () => {
  await withBusybox(async ({ b, dir }) => {
    assert.equal((await b(["run", "-d", "--name", "ex1", "busybox", "sleep", "100"])).code, 0);
    Deno.writeTextFileSync(`${dir}/env`, "A=1\n# comment\nB=2\n");
    const env = await b(["exec", "--env-file", `${dir}/env`, "ex1", "sh", "-c", "echo $A$B"]);
    assert.equal(env.stdout, "12\n");
    const term = await b(["exec", "-t", "ex1", "sh", "-c", "echo $TERM"]);
    assert.match(term.stdout, /^xterm\r?\n$/);
    const caps = (args: string[]) =>
      b(["exec", ...args, "ex1", "grep", "CapEff", "/proc/self/status"]).then((r) => r.stdout);
    assert.notEqual(await caps(["--privileged"]), await caps([]));
    assert.equal((await b(["stop", "--timeout", "1", "ex1"])).code, 0);
    const out = await b([
      "run",
      "--rm",
      "-a",
      "stdout",
      "busybox",
      "sh",
      "-c",
      "echo o; echo e >&2",
    ]);
    assert.equal(out.stdout, "o\n");
    assert.equal(out.stderr, "");
  });
});

Deno.test("--log-opt max-size keeps the log under it", async () => {
  await withBusybox(async ({ b }) => {
    const script = "i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done";
    const id = (await b(["run", "-d", "--log-opt", "max-size=1k", "busybox", "sh", "-c", script]))
      .stdout.trim();
    assert.equal((await b(["wait", id])).stdout.trim(), "0");
    const logs = (await b(["logs", id])).stdout;
    assert.ok(logs.length < 1024, `${logs.length} bytes kept`);
    assert.match(logs, /line299\n$/);
  });
});

Deno.test("run --pull: always fetches the registry's image of a tag here, missing and never do not", async () => {
  await withBusybox(async ({ b, dir }) => {
    const reg = startRegistry(`${dir}/registry`);
    const env = { BERTH_CONFIG: `${dir}/config` };
    try {
      const name = `${reg.host}/bb:latest`;
      // The registry's image says "remote"; the one here under the same name is plain busybox.
      const imported = await b(
        ["import", "--change", 'CMD ["echo", "remote"]', `${dir}/rootfs.tar.gz`, name],
        { env },
      );
      assert.equal(imported.code, 0, imported.stderr);
      const pushed = await b(["push", name], { env });
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.equal((await b(["tag", "busybox", name])).code, 0);
      const cmd = ["sh", "-c", "echo here"];
      for (const policy of [[], ["--pull", "missing"], ["--pull", "never"]]) {
        const seen = reg.requests.length;
        const local = await b(["run", "--rm", ...policy, name, ...cmd], { env });
        assert.equal(local.stdout, "here\n", local.stderr);
        assert.equal(reg.requests.length, seen, `${policy.join(" ")}: no request to the registry`);
      }
      const always = await b(["run", "--rm", "--pull", "always", name], { env });
      assert.equal(always.code, 0, always.stderr);
      assert.equal(always.stdout, "remote\n");
      assert.match(always.stderr, new RegExp(`Status: Downloaded newer image for ${name}\n`));
      assert.ok(
        reg.requests.some((r) => r.method === "GET" && r.path === "/v2/bb/manifests/latest"),
      );
      const again = await b(["run", "--rm", "--pull", "always", "-q", name], { env });
      assert.equal(again.stdout, "remote\n", again.stderr);
      assert.equal(again.stderr, "", "-q: no pull output");
      const never = await b(["run", "--rm", "--pull", "never", `${reg.host}/nosuch`], { env });
      assert.equal(never.code, 125);
      assert.match(never.stderr, /No such image: /);
    } finally {
      await reg.close();
    }
  });
});

Deno.test("--ipc and --pid container:X join the first container's namespaces", async () => {
  await withBusybox(async ({ b }) => {
    const first = await b([
      "run",
      "-d",
      "--name",
      "ns1",
      "--ipc",
      "shareable",
      "busybox",
      "sleep",
      "1000",
    ]);
    assert.equal(first.code, 0, first.stderr);
    const links = "readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid";
    const own = (await b(["exec", "ns1", "sh", "-c", links])).stdout;
    assert.match(own, /^ipc:\[\d+\]\npid:\[\d+\]\n$/);
    const joined = await b([
      "run",
      "--rm",
      "--ipc",
      "container:ns1",
      "--pid",
      "container:ns1",
      "busybox",
      "sh",
      "-c",
      `${links}; ps -o args`,
    ]);
    assert.equal(joined.code, 0, joined.stderr);
    assert.ok(joined.stdout.startsWith(own), joined.stdout);
    assert.match(joined.stdout, /^sleep 1000$/m, "the first container's process is seen");
    const apart = await b(["run", "--rm", "busybox", "sh", "-c", `${links}; ps -o args`]);
    assert.equal(apart.stdout.split("\n").filter((l) => own.includes(l) && l !== "").length, 0);
    assert.doesNotMatch(apart.stdout, /sleep 1000/);
  });
});

Deno.test("--cgroup-parent, --device and --oom-score-adj reach the container", async () => {
  await withBusybox(async ({ b }) => {
    const parent = `berth-test-parent-${Deno.pid}`;
    const id = (await b(["run", "-d", "--cgroup-parent", `/${parent}`, "busybox", "sleep", "1000"]))
      .stdout.trim();
    try {
      const pid = (await b(["inspect", "--format", "{{.State.Pid}}", id])).stdout.trim();
      const cgroups = Deno.readTextFileSync(`/proc/${pid}/cgroup`);
      assert.match(cgroups, new RegExp(`:memory:/${parent}/${id}$|^0::/${parent}/${id}$`, "m"));
      assert.equal(
        (await b(["inspect", "--format", "{{.HostConfig.CgroupParent}}", id])).stdout.trim(),
        `/${parent}`,
      );
    } finally {
      await b(["rm", "-f", id]);
    }
    const device = await b([
      "run",
      "--rm",
      "--device",
      "/dev/null:/dev/xnull",
      "busybox",
      "sh",
      "-c",
      "echo gone >/dev/xnull && stat -c '%F %t,%T' /dev/xnull && cat /dev/xnull",
    ]);
    assert.equal(device.stdout, "character special file 1,3\n", device.stderr);
    const oom = await b([
      "run",
      "--rm",
      "--oom-score-adj",
      "500",
      "busybox",
      "cat",
      "/proc/1/oom_score_adj",
    ]);
    assert.equal(oom.stdout, "500\n", oom.stderr);
    const none = await b(["run", "--rm", "busybox", "cat", "/proc/1/oom_score_adj"]);
    assert.notEqual(none.stdout, "500\n");
  });
});
