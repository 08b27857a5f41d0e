/**
 * The rest of the container lifecycle through Docker's commands: process
 * settings from flags and the image, bad input that leaves nothing behind,
 * create/start/wait/kill/restart policies, logs filters, --init, rename, diff.
 */
import assert from "node:assert/strict";
import { withBusybox } from "./_containers.ts";
import { berth, berthArgs, listDir } from "./_helpers.ts";

Deno.test("user, workdir, env, env-file and entrypoint come from flags over the image", async () => {
  await withBusybox(async ({ dir, b }) => {
    Deno.writeTextFileSync(`${dir}/env.list`, "# comment\nFROM_FILE=yes\nA=file\n");
    const out = await b([
      "run",
      "--rm",
      "-u",
      "nobody",
      "-w",
      "/tmp",
      "-e",
      "A=flag",
      "--env-file",
      `${dir}/env.list`,
      "--entrypoint",
      "sh",
      "busybox",
      "-c",
      'id -u; id -g; pwd; echo "$A $FROM_FILE $HOME"',
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "65534\n65534\n/tmp\nflag yes /home\n");
    const numeric = await b([
      "run",
      "--rm",
      "-u",
      "1234:5678",
      "busybox",
      "sh",
      "-c",
      "id -u; id -g",
    ]);
    assert.equal(numeric.stdout, "1234\n5678\n");
  });
});

Deno.test("bad -u, bad --memory, a missing image and a taken name fail with one line and leave nothing", async () => {
  await withBusybox(async ({ dir, b }) => {
    const cases: [string[], RegExp][] = [
      [
        ["run", "--rm", "-u", "nope", "busybox", "true"],
        /unable to find user nope: no matching entries in passwd file/,
      ],
      [
        ["run", "--rm", "--memory", "lots", "busybox", "true"],
        /invalid argument "lots" for "--memory"/,
      ],
      [["run", "--rm", "--memory", "1k", "busybox", "true"], /Minimum memory limit allowed is 6MB/],
      [["run", "--rm", "--restart", "sometimes", "busybox", "true"], /invalid restart policy/],
      [["run", "--rm", "--cap-add", "FLY", "busybox", "true"], /Unknown capability: "FLY"/],
    ];
    for (const [args, message] of cases) {
      const out = await b(args);
      assert.equal(out.code, 125, `${args.join(" ")}: ${out.stderr}`);
      assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
      assert.match(out.stderr, message);
    }
    // A missing image is pulled first, as docker's run does: its line, then the pull's error.
    const missing = await b(["run", "--rm", "nosuchimage"]);
    assert.equal(missing.code, 125, missing.stderr);
    const lines = missing.stderr.trim().split("\n");
    assert.equal(lines[0], "Unable to find image 'nosuchimage:latest' locally");
    assert.equal(lines.length, 2, missing.stderr);
    assert.match(lines[1]!, /^Error: /);
    assert.deepEqual(
      listDir(`${dir}/root/containers`),
      [],
      "no container record or bundle is left",
    );
    await b(["create", "--name", "taken", "busybox", "true"]);
    const dup = await b(["create", "--name", "taken", "busybox", "true"]);
    assert.equal(dup.code, 1);
    assert.equal(listDir(`${dir}/root/containers`).length, 1);
  });
});

Deno.test("create, start, wait and kill -s behave as Docker's", async () => {
  await withBusybox(async ({ b }) => {
    const id =
      (await b(["create", "--name", "later", "busybox", "sh", "-c", "echo started; exit 7"])).stdout
        .trim();
    assert.equal(
      (await b(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])).stdout,
      "later Created\n",
    );
    assert.equal((await b(["start", "later"])).stdout, "later\n");
    assert.equal((await b(["wait", "later"])).stdout, "7\n");
    assert.equal((await b(["logs", "later"])).stdout, "started\n");
    const attached = await b(["start", "-a", id]);
    assert.equal(attached.code, 7);
    assert.equal(attached.stdout, "started\n");

    await b([
      "run",
      "-d",
      "--name",
      "victim",
      "busybox",
      "sh",
      "-c",
      "trap 'exit 3' USR1; while true; do sleep 0.1; done",
    ]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await b(["kill", "-s", "USR1", "victim"])).code, 0);
    assert.equal((await b(["wait", "victim"])).stdout, "3\n");
    const notRunning = await b(["kill", "victim"]);
    assert.equal(notRunning.code, 1);
    assert.match(notRunning.stderr, /is not running/);
  });
});

Deno.test("--restart on-failure:2 restarts twice; always comes back until stopped", async () => {
  await withBusybox(async ({ b }) => {
    await b([
      "run",
      "-d",
      "--name",
      "flaky",
      "--restart",
      "on-failure:2",
      "busybox",
      "sh",
      "-c",
      "echo run; exit 1",
    ]);
    const info = async (name: string) => JSON.parse((await b(["inspect", name])).stdout)[0];
    for (let i = 0; i < 100 && (await info("flaky")).State.Status !== "exited"; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const flaky = await info("flaky");
    assert.equal(flaky.RestartCount, 2);
    assert.equal(flaky.State.ExitCode, 1);
    assert.equal((await b(["logs", "flaky"])).stdout, "run\nrun\nrun\n");

    await b([
      "run",
      "-d",
      "--name",
      "always",
      "--restart",
      "always",
      "busybox",
      "sh",
      "-c",
      "sleep 0.2; exit 0",
    ]);
    for (let i = 0; i < 100 && (await info("always")).RestartCount < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok((await info("always")).RestartCount >= 1);
    assert.equal((await b(["stop", "-t", "1", "always"])).code, 0);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(
      (await info("always")).State.Status,
      "exited",
      "stop wins over the restart policy",
    );
  });
});

Deno.test("stop of a container waiting out its restart back-off shows it exited at once and it stays stopped", async () => {
  await withBusybox(async ({ b }) => {
    await b(["run", "-d", "--name", "loop", "--restart", "always", "busybox", "false"]);
    const info = async () => JSON.parse((await b(["inspect", "loop"])).stdout)[0];
    // From the fourth restart on, the back-off is 1.6 s or more: stop lands inside it.
    for (let i = 0; i < 100 && (await info()).RestartCount < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 50 && !(await info()).State.Restarting; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await info()).State.Status, "restarting");
    assert.equal((await b(["stop", "loop"])).code, 0);
    assert.equal((await info()).State.Status, "exited", "at once");
    const count = (await info()).RestartCount;
    await new Promise((r) => setTimeout(r, 2500));
    const after = await info();
    assert.equal(after.State.Status, "exited", "the back-off's end starts nothing");
    assert.equal(after.RestartCount, count);
  });
});

Deno.test("logs --tail, -t, --since and --until filter the json-file log", async () => {
  await withBusybox(async ({ b }) => {
    await b([
      "run",
      "--name",
      "chatty",
      "busybox",
      "sh",
      "-c",
      "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three",
    ]);
    assert.equal((await b(["logs", "--tail", "1", "chatty"])).stdout, "three\n");
    const both = await b(["logs", "chatty"]);
    assert.equal(both.stdout, "one\nthree\n");
    assert.equal(both.stderr, "two\n");
    assert.match(
      (await b(["logs", "-t", "--tail", "1", "chatty"])).stdout,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$/,
    );
    assert.equal((await b(["logs", "--since", "1h", "chatty"])).stdout, "one\nthree\n");
    assert.equal((await b(["logs", "--until", "2000-01-01T00:00:00Z", "chatty"])).stdout, "");
  });
});

Deno.test("--init runs a PID 1 that forwards stop signals; rename and diff", async () => {
  await withBusybox(async ({ b }) => {
    const ps = await b(["run", "--rm", "--init", "busybox", "ps", "-o", "pid,comm"]);
    assert.match(ps.stdout, /^\s*1 docker-init$/m);
    await b(["run", "-d", "--init", "--name", "sleepy", "busybox", "sleep", "60"]);
    const started = Date.now();
    await b(["stop", "sleepy"]);
    assert.ok(Date.now() - started < 5000, "SIGTERM reached sleep through the init");
    assert.equal(JSON.parse((await b(["inspect", "sleepy"])).stdout)[0].State.ExitCode, 143);

    assert.equal((await b(["rename", "sleepy", "renamed"])).code, 0);
    assert.equal((await b(["ps", "-a", "--format", "{{.Names}}"])).stdout, "renamed\n");
    await b([
      "run",
      "--name",
      "changer",
      "busybox",
      "sh",
      "-c",
      "echo x > /tmp/new; rm /etc/group",
    ]);
    assert.equal(
      (await b(["diff", "changer"])).stdout,
      "C /etc\nD /etc/group\nC /tmp\nA /tmp/new\n",
    );
  });
});

Deno.test("pause freezes and unpause thaws; top and stats read the container's cgroup", async () => {
  await withBusybox(async ({ b }) => {
    await b([
      "run",
      "-d",
      "--name",
      "busy",
      "--memory",
      "64m",
      "busybox",
      "sh",
      "-c",
      "while true; do :; done",
    ]);
    const top = await b(["top", "busy"]);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^UID\s+PID\s+PPID/);
    assert.match(top.stdout, /sh -c while true; do :; done/);
    assert.equal(top.stdout.trim().split("\n").length, 2, "only the container's one process");

    const running = await b([
      "stats",
      "--no-stream",
      "--format",
      "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}",
    ]);
    const [, cpu, usage, , limit, pids] = running.stdout.trim().split(" ");
    assert.ok(Number(cpu!.replace("%", "")) > 20, `a busy loop uses CPU: ${running.stdout}`);
    assert.match(usage!, /^[\d.]+(B|KiB|MiB)$/);
    assert.equal(limit, "64MiB");
    assert.equal(pids, "1");

    assert.equal((await b(["pause", "busy"])).code, 0);
    assert.match((await b(["ps", "--format", "{{.Status}}"])).stdout, /\(Paused\)/);
    const frozen = await b(["stats", "--no-stream", "--format", "{{.CPUPerc}}", "busy"]);
    assert.equal(frozen.stdout.trim(), "0.00%");
    const again = await b(["pause", "busy"]);
    assert.equal(again.code, 1);
    assert.equal((await b(["unpause", "busy"])).code, 0);
    const thawed = await b(["stats", "--no-stream", "--format", "{{.CPUPerc}}", "busy"]);
    assert.ok(Number(thawed.stdout.trim().replace("%", "")) > 20, thawed.stdout);
  });
});

Deno.test("an image a container uses is not deleted: rmi refuses, rmi -f only untags, prune -a keeps it", async () => {
  await withBusybox(async ({ b }) => {
    const id = (await b(["create", "--name", "user", "busybox", "true"])).stdout.trim();
    const refused = await b(["rmi", "busybox"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /unable to remove repository reference "busybox" \(must force\) - container [a-f0-9]{12} is using its referenced image/,
    );
    const df = await b(["system", "df"]);
    assert.match(df.stdout, /Images\s+1\s+1\s+/);
    assert.match(df.stdout, /Containers\s+1\s+0\s+/);

    const forced = await b(["rmi", "-f", "busybox"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, "Untagged: busybox:latest\n");
    assert.match((await b(["images"])).stdout, /<none>\s+<none>/);
    assert.equal((await b(["image", "prune", "-a", "-f"])).stdout, "Total reclaimed space: 0B\n");
    assert.equal((await b(["start", "-a", id])).code, 0, "the container still runs from its image");
    assert.equal((await b(["rm", "user"])).code, 0);
    assert.match((await b(["image", "prune", "-a", "-f"])).stdout, /deleted: sha256:/);
  });
});

Deno.test("signals sent to a foreground run reach the container; exec -d runs in the background", async () => {
  await withBusybox(async ({ dir, b }) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: berthArgs(`${dir}/root`, [
        "--run-root",
        `${dir}/run`,
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "trap 'echo got TERM; exit 3' TERM; echo ready; while true; do sleep 0.1; done",
      ]),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.equal(first, "ready\n");
    child.kill("SIGTERM");
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += new TextDecoder().decode(r.value);
    }
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(rest, "got TERM\n");
    assert.equal(status.code, 3);

    await b(["run", "-d", "--name", "bg", "busybox", "sleep", "30"]);
    const exec = await b(["exec", "-d", "bg", "sh", "-c", "sleep 3; echo later > /tmp/flag"]);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(
      (await b(["exec", "bg", "ls", "/tmp"])).stdout,
      "",
      "exec -d returned before its command ended",
    );
    for (let i = 0; i < 100 && (await b(["exec", "bg", "ls", "/tmp"])).stdout === ""; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await b(["exec", "bg", "cat", "/tmp/flag"])).stdout, "later\n");
  });
});

Deno.test("Docker's default seccomp profile applies unless unconfined or privileged", async () => {
  await withBusybox(async ({ b }) => {
    const mode = async (...flags: string[]) =>
      (await b(["run", "--rm", ...flags, "busybox", "sh", "-c", "grep Seccomp: /proc/self/status"]))
        .stdout.trim();
    assert.equal(
      await mode(),
      "Seccomp:\t2",
      "a filter is installed (berth's own copy of Docker's profile)",
    );
    assert.equal(await mode("--security-opt", "seccomp=unconfined"), "Seccomp:\t0");
    assert.equal(await mode("--privileged"), "Seccomp:\t0");
    const priv = await b([
      "run",
      "--rm",
      "--privileged",
      "busybox",
      "sh",
      "-c",
      "mkdir -p /m && mount -t tmpfs x /m && echo mounted",
    ]);
    assert.equal(priv.stdout, "mounted\n", priv.stderr);
    const bad = await b(["run", "--rm", "--security-opt", "seccomp=/nope.json", "busybox", "true"]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /Cannot read the seccomp profile "\/nope.json"/);
  });
});

/** Pids of the processes whose environment holds `tag` (the test's berth and its children). */
function processesTagged(tag: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/environ`).includes(tag)) {
        pids.push(Number(entry.name));
      }
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

/** berth's container cgroups on this host (v1 memory controller, or v2). */
function berthCgroups(): Set<string> {
  for (const dir of ["/sys/fs/cgroup/memory/berth", "/sys/fs/cgroup/berth"]) {
    try {
      return new Set([...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => e.name));
    } catch {
      // not this layout, or no container yet
    }
  }
  return new Set();
}

Deno.test("a foreground run that fails before its container starts leaves no init process and no cgroup", async () => {
  await withBusybox(async ({ dir, b }) => {
    assert.equal((await b(["create", "--name", "taken", "busybox", "true"])).code, 0);
    // The run starts its container's init before it reads the image or the name (see
    // lib/cli/_early_run.ts); each failure must kill and reap it and remove its cgroup.
    const cases: [string[], number, RegExp][] = [
      [["run", "--rm", "nosuchimage"], 125, /Unable to find image/],
      [["run", "--rm", "--name", "taken", "busybox", "true"], 125, /already in use/],
      [["run", "--rm", "-u", "nope", "busybox", "true"], 125, /unable to find user nope/],
      [["run", "--rm", "--memory", "1k", "busybox", "true"], 125, /Minimum memory limit/],
      [["run", "--rm", "busybox", "nosuchcommand"], 127, /executable file not found/],
      [["run", "--rm", "-t", "busybox", "nosuchcommand"], 127, /executable file not found/],
    ];
    for (const [args, code, message] of cases) {
      const tag = `BERTH_TEST_TAG=${crypto.randomUUID()}`;
      const before = berthCgroups();
      const out = await berth(`${dir}/root`, ["--run-root", `${dir}/run`, ...args], {
        env: { BERTH_TEST_TAG: tag.split("=")[1]! },
      });
      assert.equal(out.code, code, `${args.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, message);
      assert.deepEqual(processesTagged(tag), [], `${args.join(" ")}: no process is left`);
      const added = [...berthCgroups()].filter((c) => !before.has(c));
      assert.deepEqual(added, [], `${args.join(" ")}: no cgroup is left`);
    }
    assert.equal(listDir(`${dir}/root/containers`).length, 1, "only the created container");
  });
});

Deno.test("rm -f and rmi -f of missing names exit 0 as Docker's do; without -f they fail", async () => {
  await withBusybox(async ({ dir, b }) => {
    assert.equal((await b(["create", "--name", "gone", "busybox", "true"])).code, 0);
    assert.equal((await b(["rm", "gone"])).stdout, "gone\n");
    const again = await b(["rm", "gone"]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, "Error: No such container: gone\n");

    // As docker: each missing name is reported, and the status stays 0.
    const forced = await b(["rm", "-f", "gone"]);
    assert.deepEqual(forced, { code: 0, stdout: "", stderr: "Error: No such container: gone\n" });
    assert.equal((await b(["create", "--name", "here", "busybox", "true"])).code, 0);
    const mixed = await b(["rm", "-f", "gone", "here", "gone-too"]);
    assert.deepEqual(mixed, {
      code: 0,
      stdout: "here\n",
      stderr: "Error: No such container: gone\nError: No such container: gone-too\n",
    });
    assert.deepEqual(listDir(`${dir}/root/containers`), []);
    const plain = await b(["rm", "gone", "gone-too"]);
    assert.equal(plain.code, 1);
    assert.equal(
      plain.stderr,
      "Error: No such container: gone\nError: No such container: gone-too\n",
    );

    assert.equal((await b(["rmi", "nosuch"])).code, 1);
    const rmiForced = await b(["rmi", "-f", "nosuch"]);
    assert.deepEqual(rmiForced, {
      code: 0,
      stdout: "",
      stderr: "Error: No such image: nosuch:latest\n",
    });
    assert.equal((await b(["tag", "busybox", "extra:1"])).code, 0);
    const rmiMixed = await b(["rmi", "-f", "nosuch", "extra:1"]);
    assert.equal(rmiMixed.code, 0, rmiMixed.stderr);
    assert.equal(rmiMixed.stdout, "Untagged: extra:1\n");
    assert.equal(rmiMixed.stderr, "Error: No such image: nosuch:latest\n");
    assert.equal((await b(["images", "-q", "extra"])).stdout, "");
  });
});
