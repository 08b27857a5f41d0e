/**
 * Health checks end to end: `run --health-*` (and an image's HEALTHCHECK),
 * the run root's health runner, `inspect`'s .State.Health and ps's status.
 *
 * The runner is the one `run` starts (`container __healthd`); a test-only
 * entry starts the same code as well, which leaves at once when the real one
 * holds the lock. Either way none is left once its containers are gone
 * (withBusybox checks that no process naming the root is left).
 */
import assert from "node:assert/strict";
import { type Env, processesMentioning, withBusybox } from "./_containers.ts";
import { REPO } from "./_helpers.ts";

// The runner leaves half a second after its last checked container, not Docker's 10 s.
Deno.env.set("BERTH_HEALTHD_IDLE_MS", "500");

/** Polls `probe` until it returns a value (up to a minute). */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Runs a detached container and makes sure a health runner checks it. */
async function runChecked(env: Env, args: string[]): Promise<string> {
  const out = await env.b(["run", "-d", ...args]);
  assert.equal(out.code, 0, out.stderr);
  const id = out.stdout.trim();
  // The test-only entry: it exits at once (with nothing to do) when `run` started the real one.
  new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      `${REPO}tests/_healthd_entry.ts`,
      `${env.dir}/root`,
      `${env.dir}/run`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn().unref();
  return id;
}

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

async function health(env: Env, id: string): Promise<Health | null> {
  // Docker's template errors on .State.Health of a container without a check: read the State.
  const out = await env.b(["inspect", "-f", "{{json .State}}", id]);
  assert.equal(out.code, 0, out.stderr);
  return (JSON.parse(out.stdout) as { Health?: Health }).Health ?? null;
}

const untilStatus = (env: Env, id: string, status: string) =>
  until(`health "${status}"`, async () => {
    const h = await health(env, id);
    return h?.Status === status ? h : undefined;
  });

async function psStatus(env: Env, id: string): Promise<string> {
  const out = await env.b([
    "ps",
    "-a",
    "--no-trunc",
    "--filter",
    `id=${id}`,
    "--format",
    "{{.Status}}",
  ]);
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.trim();
}

Deno.test("a passing check: starting, then healthy once it passes (inspect and ps)", async () => {
  await withBusybox(async (env) => {
    const id = await runChecked(env, [
      "--health-cmd",
      "test -f /tmp/ready",
      "--health-interval",
      "100ms",
      "--health-retries",
      "1000",
      "busybox",
      "sleep",
      "600",
    ]);
    // Failing, but far from its retries: still starting.
    const starting = await until("a first failed check", async () => {
      const h = await health(env, id);
      return h !== null && h.Log.length > 0 ? h : undefined;
    });
    assert.equal(starting.Status, "starting");
    assert.equal(starting.Log[0]!.ExitCode, 1);
    assert.match(await psStatus(env, id), /^Up .* \(health: starting\)$/);
    assert.equal((await env.b(["exec", id, "touch", "/tmp/ready"])).code, 0);
    const healthy = await untilStatus(env, id, "healthy");
    assert.equal(healthy.FailingStreak, 0);
    assert.equal(healthy.Log.at(-1)!.ExitCode, 0);
    assert.ok(healthy.Log.length <= 5, "the log keeps the last five results");
    assert.match(await psStatus(env, id), /^Up .* \(healthy\)$/);
  });
});

Deno.test("a failing check: unhealthy after its retries, with its output in .State.Health.Log", async () => {
  await withBusybox(async (env) => {
    const id = await runChecked(env, [
      "--health-cmd",
      "echo not ready; echo oops >&2; exit 3",
      "--health-interval",
      "100ms",
      "--health-retries",
      "2",
      "busybox",
      "sleep",
      "600",
    ]);
    const h = await untilStatus(env, id, "unhealthy");
    assert.ok(h.FailingStreak >= 2, `streak ${h.FailingStreak}`);
    const last = h.Log.at(-1)!;
    assert.equal(last.ExitCode, 3);
    assert.equal(last.Output, "not ready\noops\n");
    assert.ok(Date.parse(last.End) >= Date.parse(last.Start));
    assert.match(await psStatus(env, id), /^Up .* \(unhealthy\)$/);
    // An unhealthy container keeps running, as in Docker.
    assert.equal(
      (await env.b(["inspect", "-f", "{{.State.Status}}", id])).stdout.trim(),
      "running",
    );
  });
});

Deno.test("a check that starts failing later turns a healthy container unhealthy", async () => {
  await withBusybox(async (env) => {
    const id = await runChecked(env, [
      "--health-cmd",
      "test ! -f /tmp/broken",
      "--health-interval",
      "100ms",
      "--health-retries",
      "2",
      "busybox",
      "sleep",
      "600",
    ]);
    await untilStatus(env, id, "healthy");
    assert.equal((await env.b(["exec", id, "touch", "/tmp/broken"])).code, 0);
    const h = await untilStatus(env, id, "unhealthy");
    assert.equal(h.Log.at(-1)!.ExitCode, 1);
    // Each change of status is an event, as Docker's.
    const events = await env.b([
      "events",
      "--since",
      "0",
      "--until",
      String(Math.ceil(Date.now() / 1000) + 1),
      "--filter",
      `container=${id}`,
      "--format",
      "{{.Action}}",
    ]);
    assert.equal(events.code, 0, events.stderr);
    const health = events.stdout.split("\n").filter((l) => l.startsWith("health_status"));
    assert.deepEqual(health, ["health_status: healthy", "health_status: unhealthy"]);
  });
});

Deno.test("a check past its timeout is killed and counts as a failure", async () => {
  await withBusybox(async (env) => {
    const id = await runChecked(env, [
      "--health-cmd",
      "sleep 600",
      "--health-interval",
      "100ms",
      "--health-timeout",
      "300ms",
      "--health-retries",
      "1",
      "busybox",
      "sleep",
      "600",
    ]);
    const h = await untilStatus(env, id, "unhealthy");
    assert.equal(h.Log[0]!.ExitCode, -1);
    assert.equal(h.Log[0]!.Output, "Health check exceeded timeout (300ms)");
  });
});

Deno.test("an image's HEALTHCHECK is run; --no-healthcheck turns it off", async () => {
  await withBusybox(async (env) => {
    Deno.mkdirSync(`${env.dir}/ctx`);
    Deno.writeTextFileSync(
      `${env.dir}/ctx/Dockerfile`,
      'FROM busybox\nHEALTHCHECK --interval=100ms --retries=1 CMD ["false"]\n',
    );
    const built = await env.b(["build", "-q", "-t", "checked", `${env.dir}/ctx`]);
    assert.equal(built.code, 0, built.stderr);
    const id = await runChecked(env, ["checked", "sleep", "600"]);
    const h = await untilStatus(env, id, "unhealthy");
    assert.equal(h.Log[0]!.ExitCode, 1);
    const off = await env.b(["run", "-d", "--no-healthcheck", "checked", "sleep", "600"]);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(await health(env, off.stdout.trim()), null);
    assert.match(await psStatus(env, off.stdout.trim()), /^Up [^(]*$/);
  });
});

Deno.test("the health runner leaves once no running container has a check", async () => {
  await withBusybox(async (env) => {
    const root = `${env.dir}/root`;
    const runners = () =>
      processesMentioning(root).filter((pid) =>
        /__healthd|_healthd_entry/.test(Deno.readTextFileSync(`/proc/${pid}/cmdline`))
      );
    const id = await runChecked(env, [
      "--health-cmd",
      "true",
      "--health-interval",
      "100ms",
      "busybox",
      "sleep",
      "600",
    ]);
    await untilStatus(env, id, "healthy");
    assert.equal(runners().length, 1, "one runner checks the root's containers");
    // A container without a check does not keep it.
    assert.equal((await env.b(["run", "-d", "busybox", "sleep", "600"])).code, 0);
    assert.equal((await env.b(["stop", "-t", "0", id])).code, 0);
    await until("the runner to leave", () => Promise.resolve(runners().length === 0 || undefined));
    // A stopped container's last health stays in inspect, and ps shows none.
    assert.equal((await health(env, id))?.Status, "healthy");
    assert.match(await psStatus(env, id), /^Exited \(137\)/);
  });
});
