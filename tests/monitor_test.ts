/**
 * The monitor of detached containers (conmon driving `berth runtime`) keeps
 * Docker's guarantees: nothing of berth stays resident per container, a
 * killed monitor never leaves a container running unsupervised or shown as
 * running, restart policies apply, logs survive a monitor's death and the
 * restart after it, and a missing conmon is named.
 */
import assert from "node:assert/strict";
import { alive, type Env, processesMentioning, withBusybox } from "./_containers.ts";
import { berth, listDir } from "./_helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ppid(pid: number): number {
  return Number(/^PPid:\s+(\d+)$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]);
}

function comm(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
}

async function inspect(b: Env["b"], name: string, format: string): Promise<string> {
  const out = await b(["inspect", "-f", format, name]);
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.trim();
}

/** Polls `check` for up to 10 s. */
async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting until ${what}`);
}

Deno.test("a detached container is supervised by conmon; no berth process stays per container", async () => {
  await withBusybox(async ({ dir, b }) => {
    for (const name of ["one", "two"]) {
      assert.equal((await b(["run", "-d", "--name", name, "busybox", "sleep", "60"])).code, 0);
    }
    for (const name of ["one", "two"]) {
      const pid = Number(await inspect(b, name, "{{.State.Pid}}"));
      assert.equal(comm(ppid(pid)), "conmon", "the container's parent is its conmon");
    }
    // Only the two conmons (and the containers' own processes) mention this root.
    const resident = processesMentioning(`${dir}/root`).map(comm).sort();
    assert.deepEqual(resident, ["conmon", "conmon"]);
    const stop = await b(["stop", "-t", "1", "one", "two"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await inspect(b, "one", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
    assert.equal((await b(["rm", "one", "two"])).code, 0);
    await eventually(
      "no process of the removed containers is left",
      () => processesMentioning(`${dir}/root`).length === 0,
    );
    assert.deepEqual(listDir(`${dir}/run/runtime`), [], "no runtime state is left");
    assert.deepEqual(listDir(`${dir}/run/conmon`), [], "no attach socket directory is left");
    assert.deepEqual(
      listDir(`${dir}/run/exits`).filter((n) => !n.endsWith(".removed")),
      [],
      "no exit file is left",
    );
  });
});

Deno.test("an exit nobody waits for is recorded: code, finish time, logs; --rm removes the container", async () => {
  await withBusybox(async ({ dir, b }) => {
    const id = (await b([
      "run",
      "-d",
      "busybox",
      "sh",
      "-c",
      "echo to-stdout; echo to-stderr >&2; exit 3",
    ])).stdout.trim();
    await eventually(
      "the exit is recorded",
      async () => (await inspect(b, id, "{{.State.Status}}")) === "exited",
    );
    assert.equal(await inspect(b, id, "{{.State.ExitCode}}"), "3");
    assert.notEqual(await inspect(b, id, "{{.State.FinishedAt}}"), "0001-01-01T00:00:00Z");
    const logs = await b(["logs", id]);
    assert.equal(logs.stdout, "to-stdout\n");
    assert.equal(logs.stderr, "to-stderr\n");
    assert.match(await inspect(b, id, "{{.LogPath}}"), new RegExp(`/${id}\\.log$`));

    const rm = (await b(["run", "-d", "--rm", "busybox", "true"])).stdout.trim();
    await eventually("the --rm container is gone", async () => {
      const ps = await b(["ps", "-aq", "--no-trunc"]);
      return !ps.stdout.includes(rm);
    });
    await eventually("its conmon is gone", () => processesMentioning(rm).length === 0);
    assert.ok(!listDir(`${dir}/root/containers`).includes(rm));
  });
});

Deno.test("kill -9 of a monitor: its container does not run on unsupervised, and restart=always brings it back with its logs", async () => {
  await withBusybox(async ({ b }) => {
    // Without a restart policy: the container ends and shows as exited with the reason.
    assert.equal((await b(["run", "-d", "--name", "plain", "busybox", "sleep", "60"])).code, 0);
    const pid = Number(await inspect(b, "plain", "{{.State.Pid}}"));
    Deno.kill(ppid(pid), "SIGKILL");
    const ps = await b(["ps", "-a", "--filter", "name=plain", "--format", "{{.Status}}"]);
    assert.match(ps.stdout, /^Exited \(137\)/);
    assert.match(
      await inspect(b, "plain", "{{.State.Error}}"),
      /monitor exited unexpectedly/,
    );
    await eventually("the container's process is gone", () => !alive(pid));

    // With restart=always: berth notices and starts it again; the log keeps both runs.
    const started = await b([
      "run",
      "-d",
      "--name",
      "back",
      "--restart",
      "always",
      "busybox",
      "sh",
      "-c",
      "echo run-$(cat /proc/uptime | cut -d' ' -f1); sleep 60",
    ]);
    assert.equal(started.code, 0, started.stderr);
    await eventually(
      "the first run logged",
      async () =>
        (await b(["logs", "back"])).stdout.split("\n").filter((l) => l.startsWith("run-"))
          .length ===
          1,
    );
    const first = Number(await inspect(b, "back", "{{.State.Pid}}"));
    Deno.kill(ppid(first), "SIGKILL");
    const again = await b(["ps", "--filter", "name=back", "--format", "{{.Status}}"]);
    assert.match(again.stdout, /^Up/, "ps revives it");
    const second = Number(await inspect(b, "back", "{{.State.Pid}}"));
    assert.notEqual(second, first);
    assert.equal(comm(ppid(second)), "conmon", "under a new conmon");
    await eventually(
      "the second run logged",
      async () =>
        (await b(["logs", "back"])).stdout.split("\n").filter((l) => l.startsWith("run-"))
          .length ===
          2,
    );
    await eventually("the first run's process is gone", () => !alive(first));
  });
});

Deno.test("a restart under conmon keeps the restart count and stops when the user stops it", async () => {
  await withBusybox(async ({ b }) => {
    const started = await b([
      "run",
      "-d",
      "--name",
      "loop",
      "--restart",
      "always",
      "busybox",
      "sh",
      "-c",
      "echo tick; sleep 0.2; exit 1",
    ]);
    assert.equal(started.code, 0, started.stderr);
    await eventually(
      "it restarted twice",
      async () => Number(await inspect(b, "loop", "{{.RestartCount}}")) >= 2,
    );
    const stop = await b(["stop", "-t", "1", "loop"]);
    assert.equal(stop.code, 0, stop.stderr);
    await sleep(1500);
    assert.match(await inspect(b, "loop", "{{.State.Status}}"), /^exited$/);
    const ticks = (await b(["logs", "loop"])).stdout.split("\n").filter((l) => l === "tick");
    assert.ok(ticks.length >= 3, `every run logged: ${ticks.length}`);
  });
});

Deno.test("without conmon, run -d says what is missing and leaves the container created", async () => {
  await withBusybox(async ({ dir, b }) => {
    const out = await b(["run", "-d", "--name", "nomon", "busybox", "true"], {
      env: { BERTH_CONMON: `${dir}/no-such-conmon` },
    });
    assert.equal(out.code, 125);
    assert.equal(
      out.stderr,
      `Error: BERTH_CONMON=${dir}/no-such-conmon is not an executable file\n`,
    );
    assert.equal(await inspect(b, "nomon", "{{.State.Status}}"), "created");
    assert.deepEqual(listDir(`${dir}/run/runtime`), [], "no runtime state is left");
  });
});

Deno.test("an exit claimed by a watching command still gets its restart", async () => {
  await withBusybox(async ({ b }) => {
    const started = await b([
      "run",
      "-d",
      "--name",
      "watched",
      "--restart",
      "on-failure:3",
      "busybox",
      "sh",
      "-c",
      "echo run; exit 1",
    ]);
    assert.equal(started.code, 0, started.stderr);
    // `ps` polled without pause records each exit as soon as conmon writes it, mostly before
    // conmon's own exit command does; the restart must happen either way.
    for (let i = 0; i < 400; i++) {
      const ps = await b(["ps", "-a", "--filter", "name=watched", "--format", "{{.State}}"]);
      if (ps.stdout.trim() === "exited") break;
    }
    assert.equal(
      await inspect(b, "watched", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}"),
      "exited 3 1",
    );
    assert.equal((await b(["logs", "watched"])).stdout, "run\nrun\nrun\nrun\n");
  });
});

Deno.test("conmon's exit command for a container whose root is gone creates nothing", async () => {
  await withBusybox(async ({ dir, b }) => {
    const gone = `${dir}/removed-root`;
    const id = "a".repeat(64);
    const out = await berth(gone, ["--run-root", `${dir}/run`, "container", "__exited", id]);
    assert.equal(out.code, 0, out.stderr);
    assert.throws(() => Deno.statSync(gone), "the removed root is not laid out again");
    // And in a live root, for a container removed meanwhile.
    assert.equal((await b(["container", "__exited", id])).code, 0);
    assert.ok(!listDir(`${dir}/root/containers`).includes(id));
  });
});
