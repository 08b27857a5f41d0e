import assert from "node:assert/strict";
import {
  type ContainerRecord,
  ContainerStore,
  healthSuffix,
  markRunning,
  startTimeOf,
} from "./container_record.ts";
import {
  goDuration,
  healthCheckFrom,
  healthdLockPath,
  healthdRunning,
  nextHealth,
  OutputLimit,
  probeArgs,
  runHealthd,
} from "./health.ts";

Deno.test("probeArgs() runs CMD-SHELL through /bin/sh -c and CMD as it is", () => {
  assert.deepEqual(probeArgs(["CMD-SHELL", "test -f /ok"]), ["/bin/sh", "-c", "test -f /ok"]);
  assert.deepEqual(probeArgs(["CMD", "true", "x"]), ["true", "x"]);
  assert.equal(probeArgs(["NONE"]), undefined);
  assert.equal(probeArgs([]), undefined);
  assert.equal(probeArgs(null), undefined);
  assert.equal(probeArgs(["CMD"]), undefined);
});

Deno.test("healthCheckFrom() fills in Docker's defaults for zero or missing values", () => {
  assert.deepEqual(healthCheckFrom({ Test: ["CMD", "true"], Interval: 0 }), {
    args: ["true"],
    intervalNs: 30e9,
    timeoutNs: 30e9,
    startPeriodNs: 0,
    retries: 3,
  });
  assert.deepEqual(
    healthCheckFrom({
      Test: ["CMD-SHELL", "x"],
      Interval: 1e9,
      Timeout: 2e9,
      StartPeriod: 3e9,
      Retries: 5,
    }),
    {
      args: ["/bin/sh", "-c", "x"],
      intervalNs: 1e9,
      timeoutNs: 2e9,
      startPeriodNs: 3e9,
      retries: 5,
    },
  );
  assert.equal(healthCheckFrom({ Test: ["NONE"] }), undefined);
  assert.equal(healthCheckFrom(undefined), undefined);
});

const entry = (exitCode: number, start = "2026-01-01T00:00:10.000Z") => ({
  Start: start,
  End: start,
  ExitCode: exitCode,
  Output: "",
});
const STARTED = "2026-01-01T00:00:00.000Z";

Deno.test("nextHealth() is healthy at the first pass and unhealthy after retries failures", () => {
  const check = { retries: 2, startPeriodNs: 0 };
  let h = nextHealth(undefined, entry(0), check, STARTED);
  assert.deepEqual([h.Status, h.FailingStreak], ["healthy", 0]);
  h = nextHealth(h, entry(1), check, STARTED);
  assert.deepEqual([h.Status, h.FailingStreak], ["healthy", 1]);
  h = nextHealth(h, entry(1), check, STARTED);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 2]);
  h = nextHealth(h, entry(0), check, STARTED);
  assert.deepEqual([h.Status, h.FailingStreak], ["healthy", 0]);
});

Deno.test("nextHealth() does not count failures of a starting container in its start period", () => {
  const check = { retries: 1, startPeriodNs: 60e9 };
  const starting = { Status: "starting" as const, FailingStreak: 0, Log: [] };
  let h = nextHealth(starting, entry(1), check, STARTED);
  assert.deepEqual([h.Status, h.FailingStreak], ["starting", 0]);
  h = nextHealth(h, entry(1, "2026-01-01T00:01:10.000Z"), check, STARTED);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 1]);
});

Deno.test("nextHealth() keeps the last five results, oldest first", () => {
  let h = undefined;
  for (let i = 0; i < 7; i++) {
    h = nextHealth(
      h,
      { ...entry(0), Output: String(i) },
      { retries: 3, startPeriodNs: 0 },
      STARTED,
    );
  }
  assert.deepEqual(h!.Log.map((e) => e.Output), ["2", "3", "4", "5", "6"]);
});

Deno.test("OutputLimit keeps 4096 bytes and marks a cut with ...", () => {
  const out = new OutputLimit();
  out.write(new TextEncoder().encode("a".repeat(4000)));
  out.write(new TextEncoder().encode("b".repeat(200)));
  const text = out.text();
  assert.equal(text.length, 4096 + 3);
  assert.ok(text.endsWith("b...".padStart(4, "b")));
  const small = new OutputLimit();
  small.write(new TextEncoder().encode("ok\n"));
  assert.equal(small.text(), "ok\n");
});

Deno.test("goDuration() prints as Go's time.Duration does", () => {
  assert.equal(goDuration(30e9), "30s");
  assert.equal(goDuration(1.5e9), "1.5s");
  assert.equal(goDuration(500e6), "500ms");
  assert.equal(goDuration(90e9), "1m30s");
  assert.equal(goDuration(3600e9), "1h0m0s");
  assert.equal(goDuration(0), "0s");
});

Deno.test("healthSuffix() shows the status of a running container only", () => {
  const state = (Status: "starting" | "healthy" | "unhealthy", Running = true) =>
    ({
      Running,
      Paused: false,
      Restarting: false,
      Health: { Status, FailingStreak: 0, Log: [] },
    }) as unknown as ContainerRecord["State"];
  assert.equal(healthSuffix(state("starting")), " (health: starting)");
  assert.equal(healthSuffix(state("healthy")), " (healthy)");
  assert.equal(healthSuffix(state("unhealthy")), " (unhealthy)");
  assert.equal(healthSuffix(state("healthy", false)), "");
  assert.equal(healthSuffix({ Running: true } as ContainerRecord["State"]), "");
});

function fakeRecord(id: string, healthcheck: object): ContainerRecord {
  return {
    Id: id,
    Created: STARTED,
    Path: "sh",
    Args: [],
    State: {
      Status: "created",
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 0,
      ExitCode: 0,
      Error: "",
      StartedAt: "",
      FinishedAt: "",
    },
    Image: "sha256:" + "0".repeat(64),
    Name: "/c",
    RestartCount: 0,
    Config: { Healthcheck: healthcheck } as unknown as ContainerRecord["Config"],
    HostConfig: {} as ContainerRecord["HostConfig"],
    Layers: [],
  };
}

Deno.test("runHealthd() checks a running container until it is unhealthy, then leaves once it stops", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.mkdirSync(`${dir}/tmp`);
    const containers = new ContainerStore(dir, `${dir}/tmp`);
    const id = "a".repeat(64);
    const record = fakeRecord(id, { Test: ["CMD-SHELL", "exit 1"], Interval: 1e6, Retries: 2 });
    Deno.mkdirSync(containers.path(id));
    markRunning(record, 1, new Date().toISOString());
    record.Monitor = { pid: Deno.pid, startTime: startTimeOf(Deno.pid)! };
    containers.write(record);
    const ran: string[][] = [];
    const statuses: string[] = [];
    const done = runHealthd({
      containers,
      runRoot: `${dir}/run`,
      idleMs: 0,
      onStatus: (_r, status) => statuses.push(status),
      exec: (execId, args, io) => {
        assert.equal(execId, id);
        ran.push(args);
        io.output("stdout", new TextEncoder().encode("bad\n"));
        // Stopped once it is unhealthy: the runner then has nothing left to check.
        if (ran.length === 3) {
          containers.update(id, (r) => (r.State = { ...r.State, Running: false }));
        }
        return Promise.resolve({ exitCode: 1, oomKilled: false });
      },
    });
    assert.equal(healthdRunning(`${dir}/run`), true, "its lock is held while it runs");
    assert.equal(await done, true);
    assert.equal(healthdRunning(`${dir}/run`), false, "the lock is free once it left");
    assert.deepEqual(ran, Array(3).fill(["/bin/sh", "-c", "exit 1"]));
    const health = containers.read(id).State.Health!;
    assert.equal(health.Status, "unhealthy");
    assert.equal(health.FailingStreak, 2, "the result of a stopped run is not recorded");
    assert.equal(health.Log.length, 2);
    assert.equal(health.Log[0]!.Output, "bad\n");
    assert.equal(health.Log[0]!.ExitCode, 1);
    assert.deepEqual(statuses, ["unhealthy"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runHealthd() returns false at once while another runner holds the lock", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.mkdirSync(`${dir}/tmp`);
    const containers = new ContainerStore(dir, `${dir}/tmp`);
    const held = Deno.openSync(healthdLockPath(dir), { write: true, create: true });
    held.lockSync(true);
    try {
      // A lock taken in this process is another open file: flock tells them apart.
      const ran = await runHealthd({
        containers,
        runRoot: dir,
        exec: () => Promise.reject(new Error("no check should run")),
      });
      assert.equal(ran, false);
    } finally {
      held.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
