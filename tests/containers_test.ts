/**
 * Containers end to end through Docker's commands: isolation and Docker's
 * security defaults, exit codes, limits, the detached lifecycle, exec, a pty,
 * and nothing left on the host afterwards.
 */
import assert from "node:assert/strict";
import { REPO, run } from "./_helpers.ts";
import { alive, withBusybox } from "./_containers.ts";

Deno.test("a container sees only itself: PID 1, its hostname, its processes and mounts", async () => {
  await withBusybox(async ({ dir, b }) => {
    Deno.writeTextFileSync(`${dir}/host-secret`, "host only");
    const out = await b([
      "run",
      "--rm",
      "--hostname",
      "box",
      "busybox",
      "sh",
      "-c",
      `echo pid=$$; hostname; ps -o comm | tail -n +2 | sort -u | tr '\\n' ' '; echo; cat /proc/self/mountinfo; cat ${dir}/host-secret 2>&1; true`,
    ]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split("\n");
    assert.equal(lines[0], "pid=1");
    assert.equal(lines[1], "box");
    // Busybox applets started through /proc/self/exe show as "exe".
    const comms = lines[2]!.trim().split(" ");
    assert.ok(comms.includes("sh") && comms.includes("ps"), lines[2]!);
    assert.ok(
      comms.every((c) => ["ps", "sh", "sort", "tail", "tr", "exe"].includes(c)),
      `only the container's processes: ${lines[2]}`,
    );
    const mountpoints = lines.slice(3).filter((l) => / - /.test(l)).map((l) => l.split(" ")[4]);
    assert.ok(mountpoints.includes("/proc") && mountpoints.includes("/dev/pts"));
    assert.ok(
      mountpoints.every((m) => !m!.startsWith(dir) && !m!.startsWith("/work")),
      `no host paths: ${mountpoints}`,
    );
    assert.match(out.stdout, /No such file or directory/, "the host file is not reachable");
  });
});

Deno.test("Docker's security defaults: no mount, no insmod, kcore masked, the default capability set", async () => {
  await withBusybox(async ({ b }) => {
    const out = await b([
      "run",
      "--rm",
      "busybox",
      "sh",
      "-c",
      "mkdir -p /m && mount -t tmpfs x /m 2>/dev/null && echo mounted; insmod /nope.ko 2>/dev/null && echo loaded; " +
      "cat /proc/keys /proc/timer_list | wc -c; ls /proc/acpi | wc -l; grep CapBnd /proc/self/status; " +
      "(echo 1 > /proc/sys/kernel/ns_last_pid) 2>/dev/null && echo wrote; true",
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(!out.stdout.includes("mounted"));
    assert.ok(!out.stdout.includes("loaded"));
    assert.ok(!out.stdout.includes("wrote"));
    assert.match(
      out.stdout,
      /^0\n0\n/,
      "masked /proc files read as empty, masked dirs list nothing",
    );
    assert.match(out.stdout, /CapBnd:\s+00000000a80425fb/);
    const priv = await b([
      "run",
      "--rm",
      "--cap-add",
      "SYS_ADMIN",
      "busybox",
      "sh",
      "-c",
      "mkdir -p /m && mount -t tmpfs x /m && echo mounted",
    ]);
    assert.match(priv.stdout, /mounted/);
    const ro = await b([
      "run",
      "--rm",
      "--read-only",
      "busybox",
      "sh",
      "-c",
      "touch /x 2>/dev/null || echo read-only",
    ]);
    assert.equal(ro.stdout.trim(), "read-only");
  });
});

Deno.test("exit codes come back as Docker's: 0, 42, 126, 127, and 137 for an OOM kill", async () => {
  await withBusybox(async ({ b }) => {
    assert.equal((await b(["run", "--rm", "busybox", "true"])).code, 0);
    assert.equal((await b(["run", "--rm", "busybox", "sh", "-c", "exit 42"])).code, 42);
    const notExec = await b(["run", "--rm", "busybox", "/etc/passwd"]);
    assert.equal(notExec.code, 126, notExec.stderr);
    assert.equal(notExec.stderr.trim().split("\n").length, 1);
    const missing = await b(["run", "--rm", "busybox", "nope"]);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /^Error: .*"nope".*not found/);
    const oom = await b([
      "run",
      "--name",
      "oom",
      "--memory",
      "20m",
      "--memory-swap",
      "20m",
      "busybox",
      "sh",
      "-c",
      "a=xxxxxxxxxx; while true; do a=$a$a; done",
    ]);
    assert.equal(oom.code, 137);
    const [info] = JSON.parse((await b(["inspect", "oom"])).stdout);
    assert.equal(info.State.OOMKilled, true);
    assert.equal(info.State.ExitCode, 137);
  });
});

Deno.test("--pids-limit stops a fork bomb", async () => {
  await withBusybox(async ({ b }) => {
    const out = await b([
      "run",
      "--rm",
      "--pids-limit",
      "10",
      "busybox",
      "sh",
      "-c",
      "n=0; for i in $(seq 30); do sleep 5 & n=$((n+1)); done 2>/dev/null; ps | wc -l",
    ]);
    assert.ok(Number(out.stdout.trim()) <= 12, `at most 10 processes ran: ${out.stdout}`);
  });
});

Deno.test("run -d, logs -f, exec in the same PID namespace, stop -t 1, rm", async () => {
  await withBusybox(async ({ b }) => {
    const started = await b([
      "run",
      "-d",
      "--name",
      "web",
      "--label",
      "app=web",
      "busybox",
      "sh",
      "-c",
      "echo ready; while true; do sleep 0.1; done",
    ]);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);

    const ps = await b(["ps", "--filter", "label=app=web", "--format", "{{.Names}} {{.Status}}"]);
    assert.match(ps.stdout, /^web Up /);
    const dup = await b(["run", "-d", "--name", "web", "busybox", "true"]);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /The container name "\/web" is already in use/);

    const exec = await b([
      "exec",
      "web",
      "sh",
      "-c",
      "ps -o pid,comm | grep -c sleep; cat /proc/1/cmdline | tr '\\0' ' '",
    ]);
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(exec.stdout, /sh -c echo ready/);
    assert.equal((await b(["exec", "web", "sh", "-c", "exit 3"])).code, 3);

    const follow = b(["logs", "-f", "web"]);
    await new Promise((r) => setTimeout(r, 300));
    const stop = await b(["stop", "-t", "1", "web"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, "web\n");
    const logs = await follow;
    assert.equal(logs.stdout, "ready\n", "logs -f ends when the container stops");

    const [info] = JSON.parse((await b(["inspect", id])).stdout);
    assert.equal(info.State.Status, "exited");
    assert.equal(info.State.ExitCode, 137, "sh as PID 1 ignores SIGTERM, so SIGKILL after 1 s");
    assert.equal((await b(["rm", "web"])).code, 0);
    assert.equal((await b(["ps", "-aq"])).stdout, "");
  });
});

Deno.test("rm of a running container needs -f, and a monitor killed with SIGKILL shows as exited", async () => {
  await withBusybox(async ({ b }) => {
    const id = (await b(["run", "-d", "busybox", "sleep", "60"])).stdout.trim();
    const rm = await b(["rm", id]);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /You cannot remove a running container/);
    const [info] = JSON.parse((await b(["inspect", id])).stdout);
    const monitorPid = Number(
      JSON.parse(Deno.readTextFileSync(`${info.LogPath.replace(/\/[^/]+$/, "")}/container.json`))
        .Monitor.pid,
    );
    Deno.kill(monitorPid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    const ps = await b(["ps", "-a", "--format", "{{.State}}"]);
    assert.equal(ps.stdout, "exited\n");
    assert.ok(!alive(info.State.Pid), "the container's process died with its monitor");
    assert.equal((await b(["rm", id])).code, 0);
  });
});

Deno.test("two containers cannot see each other's processes", async () => {
  await withBusybox(async ({ b }) => {
    await b(["run", "-d", "--name", "one", "busybox", "sleep", "30"]);
    const out = await b(["run", "--rm", "busybox", "sh", "-c", "ps -o comm | grep -c sleep"]);
    assert.equal(out.stdout.trim(), "0");
  });
});

Deno.test("run -it talks through a real pty", async () => {
  await withBusybox(async ({ dir }) => {
    const cmd =
      `${Deno.execPath()} run -A --quiet ${REPO}main.ts --root ${dir}/root --run-root ${dir}/run run --rm -it busybox sh -c '[ -t 0 ] && [ -t 1 ] && echo "on a tty, TERM=$TERM"; echo done'`;
    const out = await run("script", ["-qefc", cmd, "/dev/null"]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /on a tty, TERM=xterm/);
    assert.match(out.stdout, /done/);
  });
});
