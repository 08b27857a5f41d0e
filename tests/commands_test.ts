/**
 * The commands scripts probe for: `version`, `info`/`system info`, `events`
 * (what other berth processes did), `export`, `update`, `system prune` and
 * the prune commands' `--filter`, each with Docker's output and its errors.
 */
import assert from "node:assert/strict";
import { type Env, withBusybox } from "./_containers.ts";
import { berthArgs, withTempDir } from "./_helpers.ts";
import { VERSION } from "../lib/cli/mod.ts";
import {
  eventJson,
  eventsLogPath,
  MAX_LOG_BYTES,
  parseEvent,
  readEvents,
  recordEvent,
} from "../lib/engine/events.ts";

/** The one error line of a failed command. */
function errorLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr: ${stderr}`);
  return lines[0]!;
}

/** A container's cgroup file (v1 controller dir or the v2 dir). */
function cgroupFile(controller: string, id: string, file: string): string {
  for (
    const path of [
      `/sys/fs/cgroup/${controller}/berth/${id}/${file}`,
      `/sys/fs/cgroup/berth/${id}/${file}`,
    ]
  ) {
    try {
      return Deno.readTextFileSync(path).trim();
    } catch {
      // the other layout
    }
  }
  throw new Error(`no cgroup file ${file} for ${id}`);
}

async function tarList(path: string): Promise<string[]> {
  const out = await new Deno.Command("tar", { args: ["-tf", path], stdout: "piped" }).output();
  assert.equal(out.code, 0);
  return new TextDecoder().decode(out.stdout).trim().split("\n");
}

Deno.test("version prints Client and Server blocks and takes --format", async () => {
  await withBusybox(async ({ b }) => {
    const human = await b(["version"]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Client:\n Version: +\S+\n API version: +1\.47\n/);
    assert.match(
      human.stdout,
      /\nServer: berth\n Engine:\n {2}Version: +\S+\n {2}API version: +1\.47 \(minimum version 1\.24\)\n/,
    );
    assert.ok(human.stdout.includes(`  Version:          ${VERSION}\n`), human.stdout);
    const server = await b(["version", "--format", "{{.Server.Version}}"]);
    assert.deepEqual([server.code, server.stdout], [0, `${VERSION}\n`]);
    const json = await b(["version", "-f", "{{json .}}"]);
    const data = JSON.parse(json.stdout);
    assert.equal(data.Server.ApiVersion, "1.47");
    assert.equal(data.Client.Version, VERSION);
    assert.equal(data.Server.Os, "linux");
    assert.equal(data.Server.GoVersion, `deno${Deno.version.deno}`);
    const bad = await b(["version", "--format", "{{.Nope}}"]);
    assert.notEqual(bad.code, 0);
    assert.match(errorLine(bad.stderr), /Nope/);
    const extra = await b(["version", "x"]);
    assert.notEqual(extra.code, 0);
  });
});

Deno.test("info and system info report what scripts read", async () => {
  await withBusybox(async ({ dir, b }) => {
    assert.equal((await b(["run", "-d", "--name", "up", "busybox", "sleep", "100"])).code, 0);
    assert.equal((await b(["create", "--name", "idle", "busybox"])).code, 0);
    const format =
      "{{.ServerVersion}}|{{.Driver}}|{{.DockerRootDir}}|{{.Containers}}|{{.ContainersRunning}}|{{.ContainersPaused}}|{{.ContainersStopped}}|{{.Images}}|{{.CgroupDriver}}|{{.NCPU}}";
    for (const cmd of [["info"], ["system", "info"]]) {
      const out = await b([...cmd, "--format", format]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(
        out.stdout,
        `${VERSION}|overlay2|${dir}/root|2|1|0|1|1|cgroupfs|${navigator.hardwareConcurrency}\n`,
      );
    }
    const json = JSON.parse((await b(["info", "-f", "{{json .}}"])).stdout);
    const meminfo = Deno.readTextFileSync("/proc/meminfo");
    assert.equal(json.MemTotal, Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)![1]) * 1024);
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(Deno.readTextFileSync("/etc/os-release"));
    if (pretty) assert.equal(json.OperatingSystem, pretty[1]);
    assert.ok(["1", "2"].includes(json.CgroupVersion));
    assert.ok(json.SecurityOptions.includes("name=seccomp,profile=builtin"));
    const human = await b(["info"]);
    assert.equal(human.code, 0);
    for (
      const line of [
        "Server:\n Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n",
        " Storage Driver: overlay2\n",
        ` Docker Root Dir: ${dir}/root\n`,
        " Cgroup Driver: cgroupfs\n",
      ]
    ) assert.ok(human.stdout.includes(line), `${line} in ${human.stdout}`);
    const bad = await b(["info", "extra"]);
    assert.notEqual(bad.code, 0);
  });
});

/** Starts `berth events ARGS` following, and reads its lines until `until` matches one. */
function follow(env: Env & { dir: string }, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: berthArgs(`${env.dir}/root`, ["--run-root", `${env.dir}/run`, "events", ...args]),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const lines: string[] = [];
  let buffered = "";
  return {
    lines,
    async until(match: (line: string) => boolean): Promise<void> {
      for (;;) {
        const nl = buffered.indexOf("\n");
        if (nl >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          lines.push(line);
          if (match(line)) return;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`events ended before the line came: ${lines.join("\n")}`);
        buffered += value;
      }
    },
    async stop(): Promise<Deno.CommandStatus> {
      child.kill("SIGINT");
      await reader.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      return await child.status;
    },
  };
}

Deno.test("events shows what other berth processes did, following until interrupted", async () => {
  await withBusybox(async ({ dir, b }) => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const events = follow({ dir, b }, [
      "--since",
      since,
      "--format",
      "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
    ]);
    try {
      assert.equal((await b(["run", "--name", "ev1", "busybox", "true"])).code, 0);
      assert.equal((await b(["rename", "ev1", "ev2"])).code, 0);
      assert.equal((await b(["tag", "busybox", "evtag:1"])).code, 0);
      assert.equal((await b(["rmi", "evtag:1"])).code, 0);
      assert.equal((await b(["volume", "create", "evvol"])).code, 0);
      assert.equal((await b(["volume", "rm", "evvol"])).code, 0);
      assert.equal((await b(["rm", "ev2"])).code, 0);
      await events.until((l) => l === "container destroy ev2");
    } finally {
      const status = await events.stop();
      assert.equal(status.code, 0);
    }
    const seen = events.lines.filter((l) => !l.startsWith("image import"));
    assert.deepEqual(seen, [
      "container create ev1",
      "container start ev1",
      "container die ev1",
      "container rename ev2",
      "image tag evtag:1",
      "image untag evtag:1",
      "volume create <no value>",
      "volume destroy <no value>",
      "container destroy ev2",
    ]);
  });
});

Deno.test("events --until prints what happened and exits; filters, formats, bad input", async () => {
  await withBusybox(async ({ b }) => {
    assert.equal((await b(["create", "--name", "f1", "busybox"])).code, 0);
    assert.equal((await b(["create", "--name", "f2", "busybox"])).code, 0);
    const human = await b(["events", "--since", "1h", "--until", "0s", "--filter", "container=f1"]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container create [0-9a-f]{64} \(image=busybox, name=f1\)\n$/,
    );
    const images = await b([
      "events",
      "--since",
      "1h",
      "--until",
      "0s",
      "-f",
      "type=image",
      "--format",
      "{{.Action}}",
    ]);
    assert.equal(images.stdout, "import\n");
    const json = await b([
      "events",
      "--since",
      "1h",
      "--until",
      "0s",
      "--filter",
      "event=create",
      "--format",
      "{{json .}}",
    ]);
    const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => e.Actor.Attributes.name), ["f1", "f2"]);
    assert.equal(lines[0].status, "create");
    assert.equal(lines[0].scope, "local");
    // timeNano is exact: its first digits are time's
    assert.ok(/"timeNano":\d{19}/.test(json.stdout));
    assert.equal(String(lines[0].time), /"timeNano":(\d{10})/.exec(json.stdout)![1]);
    // nothing before --since
    const later = await b([
      "events",
      "--since",
      String(Math.floor(Date.now() / 1000) + 5),
      "--until",
      String(Math.floor(Date.now() / 1000) + 1),
    ]);
    assert.deepEqual([later.code, later.stdout], [0, ""]);
    const badFilter = await b(["events", "--until", "0s", "--filter", "nope=1"]);
    assert.deepEqual([badFilter.code, errorLine(badFilter.stderr)], [
      1,
      "Error: invalid filter 'nope'",
    ]);
    const badType = await b(["events", "--until", "0s", "--filter", "type=nope"]);
    assert.equal(badType.code, 1);
    const badSince = await b(["events", "--since", "yesterday", "--until", "0s"]);
    assert.deepEqual(
      [badSince.code, errorLine(badSince.stderr)],
      [1, 'Error: failed to parse value as time or duration: "yesterday"'],
    );
  });
});

Deno.test("the events log: lines of concurrent processes never interleave, and it is bounded", async () => {
  await withTempDir(async (dir) => {
    const module = new URL("../lib/engine/events.ts", import.meta.url).href;
    // Four processes, each appending 60 events of ~3 KiB (under PIPE_BUF) at once (under 1 MiB).
    const code = `import { recordEvent } from "${module}";
      const big = "x".repeat(3000);
      for (let i = 0; i < 60; i++) recordEvent("${dir}", "volume", "create", "v" + i, { pad: big, pid: String(Deno.pid) });`;
    const procs = [0, 1, 2, 3].map(() =>
      new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "null", stderr: "inherit" })
        .output()
    );
    for (const out of await Promise.all(procs)) assert.equal(out.code, 0);
    const text = Deno.readTextFileSync(eventsLogPath(dir));
    const lines = text.trimEnd().split("\n");
    assert.equal(lines.length, 240);
    for (const line of lines) assert.equal(parseEvent(line).Actor.Attributes.pad!.length, 3000);
    // Past 1 MiB the log is rotated: the previous file is kept, the one before dropped.
    Deno.removeSync(eventsLogPath(dir));
    const pad = "y".repeat(3000);
    const n = Math.ceil((MAX_LOG_BYTES * 2.5) / 3100);
    for (let i = 0; i < n; i++) recordEvent(dir, "network", "create", `n${i}`, { pad });
    const size = Deno.statSync(eventsLogPath(dir)).size;
    const rotated = Deno.statSync(`${eventsLogPath(dir)}.1`).size;
    assert.ok(
      size <= MAX_LOG_BYTES + 4096 && rotated <= MAX_LOG_BYTES + 4096,
      `${size} ${rotated}`,
    );
    const all = readEvents(dir);
    assert.ok(all.length < n && all.length > MAX_LOG_BYTES / 3100);
    assert.equal(all.at(-1)!.Actor.ID, `n${n - 1}`);
    // A line too long for one atomic write is shortened, not torn.
    recordEvent(dir, "container", "create", "c", { huge: "z".repeat(10_000) });
    const last = readEvents(dir).at(-1)!;
    assert.equal(last.Actor.ID, "c");
    assert.ok(eventJson(last).length < 4096);
  });
});

Deno.test("export writes the container's merged file system, running or stopped", async () => {
  await withBusybox(async ({ dir, b }) => {
    const made = await b([
      "run",
      "--name",
      "ex",
      "busybox",
      "sh",
      "-c",
      "echo hi > /new; rm /bin/ls",
    ]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await b(["export", "-o", `${dir}/ex.tar`, "ex"])).code, 0);
    const names = await tarList(`${dir}/ex.tar`);
    assert.ok(names.includes("new"));
    assert.ok(names.includes("bin/sh"));
    assert.ok(!names.includes("bin/ls"), "a deleted file is not exported");
    assert.ok(!names.some((n) => n.startsWith("./") || n.startsWith("/")));
    // to stdout: the same archive
    const child = await new Deno.Command(Deno.execPath(), {
      args: berthArgs(`${dir}/root`, ["--run-root", `${dir}/run`, "export", "ex"]),
      stdout: "piped",
    }).output();
    Deno.writeFileSync(`${dir}/stdout.tar`, child.stdout);
    assert.deepEqual(await tarList(`${dir}/stdout.tar`), names);
    // running: its files, not what is mounted in it
    assert.equal((await b(["run", "-d", "--name", "live", "busybox", "sleep", "100"])).code, 0);
    assert.equal((await b(["exec", "live", "sh", "-c", "echo x > /written"])).code, 0);
    assert.equal((await b(["export", "-o", `${dir}/live.tar`, "live"])).code, 0);
    const live = await tarList(`${dir}/live.tar`);
    assert.ok(live.includes("written"));
    assert.ok(!live.some((n) => n.startsWith("proc/") && n !== "proc/"), "no /proc contents");
    const mounts = Deno.readTextFileSync("/proc/self/mountinfo");
    assert.ok(!mounts.includes("-export"), "the export mount is gone");
    // bad input
    const missing = await b(["export", "-o", `${dir}/x.tar`, "nope"]);
    assert.notEqual(missing.code, 0);
    assert.equal(errorLine(missing.stderr), "Error: No such container: nope");
    const badDir = await b(["export", "-o", `${dir}/no/such/x.tar`, "ex"]);
    assert.deepEqual(
      [badDir.code, errorLine(badDir.stderr)],
      [
        1,
        `Error: failed to export container: open ${dir}/no/such/x.tar: no such file or directory`,
      ],
    );
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/root/tmp`)].filter((e) => e.name.includes("export")),
      [],
    );
    const none = await b(["export"]);
    assert.notEqual(none.code, 0);
  });
});

Deno.test("update changes a running container's cgroup and a stopped one's record", async () => {
  await withBusybox(async ({ b }) => {
    const id = (await b(["run", "-d", "--name", "up", "-m", "64m", "busybox", "sleep", "100"]))
      .stdout.trim();
    const out = await b([
      "update",
      "--memory",
      "128m",
      "--memory-swap",
      "256m",
      "--cpus",
      "0.5",
      "--pids-limit",
      "50",
      "--restart",
      "on-failure:3",
      "up",
    ]);
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, "up\n", ""]);
    const inspect = await b([
      "inspect",
      "-f",
      "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
      "up",
    ]);
    assert.equal(inspect.stdout, `${128 << 20} ${256 << 20} 500000000 50 on-failure:3\n`);
    assert.equal(cgroupFile("pids", id, "pids.max"), "50");
    let memory: string;
    try {
      memory = cgroupFile("memory", id, "memory.limit_in_bytes");
    } catch {
      memory = cgroupFile("memory", id, "memory.max");
    }
    assert.equal(memory, String(128 << 20));
    // stopped: recorded, and applied by the next start
    const created = (await b(["create", "--name", "later", "busybox", "sleep", "100"])).stdout
      .trim();
    assert.equal(
      (await b(["update", "--pids-limit", "33", created.slice(0, 12)])).stdout,
      `${created.slice(0, 12)}\n`,
    );
    assert.equal((await b(["start", "later"])).code, 0);
    assert.equal(cgroupFile("pids", created, "pids.max"), "33");
    // bad input: nothing changed
    const none = await b(["update", "up"]);
    assert.deepEqual(
      [none.code, errorLine(none.stderr)],
      [1, "Error: you must provide one or more flags when using this command"],
    );
    const cpus = await b(["update", "--cpus", "x", "up"]);
    assert.equal(cpus.code, 125);
    assert.match(errorLine(cpus.stderr), /invalid argument "x" for "--cpus" flag/);
    const small = await b(["update", "-m", "1k", "up"]);
    assert.deepEqual([small.code, errorLine(small.stderr)], [
      1,
      "Error: Minimum memory limit allowed is 6MB",
    ]);
    const over = await b(["update", "-m", "1g", "up"]);
    assert.match(
      errorLine(over.stderr),
      /Memory limit should be smaller than already set memoryswap limit/,
    );
    const restart = await b(["update", "--restart", "sometimes", "up"]);
    assert.match(errorLine(restart.stderr), /invalid restart policy format: "sometimes"/);
    assert.equal(cgroupFile("pids", id, "pids.max"), "50");
    const mixed = await b(["update", "--pids-limit", "60", "nope", "up"]);
    assert.notEqual(mixed.code, 0);
    assert.equal(mixed.stdout, "up\n");
    assert.equal(errorLine(mixed.stderr), "Error: No such container: nope");
    const rm = (await b(["create", "--rm", "busybox"])).stdout.trim();
    const auto = await b(["update", "--restart", "always", rm]);
    assert.match(
      errorLine(auto.stderr),
      /Restart policy cannot be updated because AutoRemove is enabled/,
    );
  });
});

Deno.test("container and image prune take --filter; system prune removes each kind", async () => {
  await withBusybox(async ({ dir, b }) => {
    const labelled = (await b(["create", "--label", "a=1", "busybox"])).stdout.trim();
    const plain = (await b(["create", "busybox"])).stdout.trim();
    const byLabel = await b(["container", "prune", "-f", "--filter", "label=a=1"]);
    assert.deepEqual(
      [byLabel.code, byLabel.stdout],
      [0, `Deleted Containers:\n${labelled}\n\nTotal reclaimed space: 0B\n`],
    );
    const recent = await b(["container", "prune", "-f", "--filter", "until=1h"]);
    assert.equal(recent.stdout, "Total reclaimed space: 0B\n");
    const badFilter = await b(["container", "prune", "-f", "--filter", "bad=1"]);
    assert.deepEqual([badFilter.code, errorLine(badFilter.stderr)], [
      1,
      "Error: invalid filter 'bad'",
    ]);
    const badUntil = await b(["image", "prune", "-f", "--filter", "until=soon"]);
    assert.equal(badUntil.code, 1);
    assert.equal((await b(["ps", "-aq", "--no-trunc"])).stdout, `${plain}\n`);
    // dangling images, one labelled
    const tarball = `${dir}/rootfs.tar.gz`;
    const keep = (await b(["import", "--change", "LABEL keep=yes", tarball])).stdout.trim();
    const drop = (await b(["import", "--change", "LABEL keep=no", tarball])).stdout.trim();
    const imgs = await b(["image", "prune", "-f", "--filter", "label=keep=no"]);
    assert.equal(imgs.code, 0, imgs.stderr);
    assert.ok(imgs.stdout.startsWith(`Deleted Images:\ndeleted: ${drop}\n`), imgs.stdout);
    assert.match(imgs.stdout, /\nTotal reclaimed space: \S+B\n$/);
    assert.deepEqual(
      (await b(["images", "-aq", "--no-trunc"])).stdout.trim().split("\n").sort(),
      [keep, (await b(["inspect", "-f", "{{.Id}}", "busybox"])).stdout.trim()].sort(),
    );
    // image list is image ls
    assert.equal((await b(["image", "list"])).stdout, (await b(["image", "ls"])).stdout);
    // system prune: answered no, nothing goes
    const no = await b(["system", "prune"], { stdin: new TextEncoder().encode("n\n") });
    assert.equal(no.code, 0);
    assert.ok(no.stdout.startsWith("WARNING! This will remove:\n  - all stopped containers\n"));
    assert.equal((await b(["ps", "-aq", "--no-trunc"])).stdout, `${plain}\n`);
    assert.equal((await b(["network", "create", "pn"])).code, 0);
    assert.equal((await b(["run", "-v", "/data", "--name", "withvol", "busybox", "true"])).code, 0);
    assert.equal((await b(["run", "-d", "--name", "busy", "busybox", "sleep", "100"])).code, 0);
    const pruned = await b(["system", "prune", "-f", "--volumes"]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(
      pruned.stdout,
      /^Deleted Containers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\nDeleted Networks:\npn\n\nDeleted Volumes:\n[0-9a-f]{64}\n\nDeleted Images:\ndeleted: sha256:[0-9a-f]{64}\n(deleted: sha256:[0-9a-f]{64}\n)*\nTotal reclaimed space: \S+B\n$/,
    );
    assert.equal(
      (await b(["ps", "-aq"])).stdout.trim().split("\n").length,
      1,
      "the running one stays",
    );
    assert.equal((await b(["volume", "ls", "-q"])).stdout, "");
    // -a: unused tagged images too, not the one a container uses
    assert.equal((await b(["tag", "busybox", "other:1"])).code, 0);
    const all = await b(["system", "prune", "-a", "-f"]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(
      (await b(["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout.trim().split("\n").sort()
        .join(","),
      "busybox:latest,other:1",
    );
    assert.equal((await b(["system", "prune", "-f", "--filter", "nope=1"])).code, 1);
  });
});
