/**
 * The runc-like lifecycle (`create`, `start`, `state`, `kill`, `delete`,
 * `list`) through the CLI, the library API used by the engine, and bad
 * bundles that must leave nothing behind.
 */
import assert from "node:assert/strict";
import {
  containerState,
  createContainer,
  deleteContainer,
  killContainer,
  startContainer,
  waitContainer,
} from "../../lib/runtime/mod.ts";
import {
  assertNoLeftovers,
  berthRuntime,
  cleanup,
  makeBundle,
  processExists,
  REPO,
  SELF,
  SKIP_REASON,
  uniqueId,
} from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;
const self = SELF;

Deno.test(
  { name: "runtime create/start/state/kill/delete: the lifecycle as runc's", ignore },
  async () => {
    const b = makeBundle();
    const id = uniqueId("life");
    const root = ["--root", b.stateRoot];
    try {
      b.write({ args: ["sh", "-c", "echo started > /tmp/started; sleep 60"] });
      const created = await berthRuntime(["create", ...root, "--bundle", b.dir, id], {
        detached: true,
      });
      assert.equal(created.code, 0, created.stderr);
      const state = JSON.parse((await berthRuntime(["state", ...root, id])).stdout);
      assert.equal(state.status, "created");
      assert.equal(state.id, id);
      assert.equal(state.bundle, b.dir);
      assert.ok(processExists(state.pid));
      assert.equal((await berthRuntime(["list", ...root, "-q"])).stdout, `${id}\n`);
      const again = await berthRuntime(["create", ...root, "--bundle", b.dir, id], {
        detached: true,
      });
      assert.equal(again.code, 125);
      assert.match(again.stderr, /already exists/);

      const started = await berthRuntime(["start", ...root, id]);
      assert.equal(started.code, 0, started.stderr);
      assert.equal(
        JSON.parse((await berthRuntime(["state", ...root, id])).stdout).status,
        "running",
      );
      const ps = await berthRuntime(["ps", ...root, id]);
      assert.ok(ps.stdout.split("\n").includes(String(state.pid)), ps.stdout);
      assert.equal((await berthRuntime(["pause", ...root, id])).code, 0);
      const paused = await berthRuntime(["pause", ...root, id]);
      assert.equal(paused.code, 125);
      assert.match(paused.stderr, /already paused/);
      assert.equal((await berthRuntime(["resume", ...root, id])).code, 0);
      const busy = await berthRuntime(["delete", ...root, id]);
      assert.equal(busy.code, 125);
      assert.match(busy.stderr, /is running/);

      assert.equal((await berthRuntime(["kill", ...root, id, "KILL"])).code, 0);
      for (let i = 0; i < 100 && processExists(state.pid); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(
        JSON.parse((await berthRuntime(["state", ...root, id])).stdout).status,
        "stopped",
      );
      const deleted = await berthRuntime(["delete", ...root, id]);
      assert.equal(deleted.code, 0, deleted.stderr);
      assertNoLeftovers(b, id, state.pid);
      const gone = await berthRuntime(["state", ...root, id]);
      assert.equal(gone.code, 125);
      assert.match(gone.stderr, /No such container/);
    } finally {
      await cleanup(b, id);
      b.close();
    }
  },
);

Deno.test({
  name: "createContainer() + startContainer() + waitContainer(): piped output, signals, OOM flag",
  ignore,
}, async () => {
  const b = makeBundle();
  const ids: string[] = [];
  try {
    const id = uniqueId("api");
    ids.push(id);
    b.write({ args: ["sh", "-c", "echo out; echo err >&2; exit 3"] });
    const c = await createContainer(b.dir, id, {
      self,
      stateRoot: b.stateRoot,
      stdio: { stdin: "null", stdout: "piped", stderr: "piped" },
    });
    assert.equal(containerState(b.stateRoot, id).status, "created");
    await startContainer(c);
    const [out, err, result] = await Promise.all([
      new Response(c.child.stdout).text(),
      new Response(c.child.stderr).text(),
      waitContainer(c),
    ]);
    assert.deepEqual([out, err, result], ["out\n", "err\n", { exitCode: 3, oomKilled: false }]);
    assert.equal(containerState(b.stateRoot, id).status, "stopped");
    await deleteContainer(b.stateRoot, id);
    assertNoLeftovers(b, id, c.pid);

    const id2 = uniqueId("api");
    ids.push(id2);
    b.write({ args: ["sleep", "60"] });
    const c2 = await createContainer(b.dir, id2, { self, stateRoot: b.stateRoot, pdeathsig: true });
    await startContainer(c2);
    killContainer(b.stateRoot, id2, "SIGKILL");
    assert.deepEqual(await waitContainer(c2), {
      exitCode: 137,
      signal: "SIGKILL",
      oomKilled: false,
    });
    await deleteContainer(b.stateRoot, id2);
    assertNoLeftovers(b, id2, c2.pid);

    const id3 = uniqueId("api");
    ids.push(id3);
    b.write({
      args: ["sh", "-c", "a=x; while true; do a=$a$a; done"],
      resources: { memory: { limit: 20 << 20, swap: 20 << 20 } },
    });
    const c3 = await createContainer(b.dir, id3, { self, stateRoot: b.stateRoot, pdeathsig: true });
    await startContainer(c3);
    assert.deepEqual(await waitContainer(c3), {
      exitCode: 137,
      signal: "SIGKILL",
      oomKilled: true,
    });
    await deleteContainer(b.stateRoot, id3);
    assertNoLeftovers(b, id3, c3.pid);
  } finally {
    for (const id of ids) await cleanup(b, id);
    b.close();
  }
});

Deno.test({
  name: "createContainer() rejects a missing command at create and leaves nothing",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("nocmd");
  try {
    b.write({ args: ["nope"] });
    await assert.rejects(
      createContainer(b.dir, id, { self, stateRoot: b.stateRoot }),
      (e: Error & { exitCode?: number }) => {
        assert.equal(e.exitCode, 127);
        assert.equal(e.message, 'exec: "nope": executable file not found in $PATH');
        return true;
      },
    );
    assertNoLeftovers(b, id);
  } finally {
    await cleanup(b, id);
    b.close();
  }
});

Deno.test({
  name: "runtime run: a bad config.json gives one error naming the field, 125, nothing created",
  ignore,
}, async (t) => {
  const b = makeBundle();
  try {
    // deno-lint-ignore no-explicit-any
    const cases: [string, (s: Record<string, any>) => void, RegExp][] = [
      ["process.args", (s) => s.process.args = [], /"process\.args" must be a non-empty array/],
      ["process.cwd", (s) => s.process.cwd = "rel", /"process\.cwd" must be an absolute path/],
      [
        "process.user",
        (s) => s.process.user = { uid: "root" },
        /"process\.user" must have numeric uid and gid/,
      ],
      [
        "linux.namespaces",
        (s) => s.linux.namespaces.push({ type: "bogus" }),
        /"linux\.namespaces\[6\]\.type" must be one of/,
      ],
      [
        "linux.resources.memory.limit",
        (s) => s.linux.resources = { memory: { limit: "20m" } },
        /"linux\.resources\.memory\.limit" must be an integer/,
      ],
      [
        "mounts",
        (s) => s.mounts[0].destination = "proc",
        /"mounts\[0\]\.destination" must be an absolute path/,
      ],
      ["root.path", (s) => delete s.root, /"root\.path" must be a non-empty string/],
      [
        "missing rootfs",
        (s) => s.root.path = "missing",
        /"root\.path" ".*\/missing" is not a directory/,
      ],
      [
        "capability",
        (s) => s.process.capabilities.bounding.push("CAP_BOGUS"),
        /unknown capability "CAP_BOGUS"/,
      ],
    ];
    for (const [name, edit, message] of cases) {
      await t.step(name, async () => {
        const id = uniqueId("bad");
        b.write({ args: ["true"] }, edit as never);
        try {
          const r = await berthRuntime(["run", "--root", b.stateRoot, "--bundle", b.dir, id]);
          assert.equal(r.code, 125);
          assert.match(r.stderr, message);
          assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
          assertNoLeftovers(b, id);
        } finally {
          await cleanup(b, id);
        }
      });
    }
    await t.step("not JSON", async () => {
      Deno.writeTextFileSync(`${b.dir}/config.json`, "{nope");
      const r = await berthRuntime(["run", "--root", b.stateRoot, "--bundle", b.dir, "x"]);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: Invalid config.json: /);
    });
  } finally {
    b.close();
  }
});

Deno.test({
  name:
    "createContainer() re-executes `berth runtime __init` when berth is not a .ts module (compiled)",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("init");
  try {
    b.write({ args: ["sh", "-c", "echo $$ from init"] });
    // A wrapper stands in for the compiled binary: it is not a .ts main module.
    const wrapper = [
      "/bin/sh",
      "-c",
      `exec "${Deno.execPath()}" run -A --quiet --config "${REPO}deno.json" "${REPO}main.ts" "$@"`,
      "berth",
    ];
    const c = await createContainer(b.dir, id, {
      self: wrapper,
      stateRoot: b.stateRoot,
      stdio: { stdin: "null", stdout: "piped", stderr: "inherit" },
    });
    await startContainer(c);
    const [out, result] = await Promise.all([
      new Response(c.child.stdout).text(),
      waitContainer(c),
    ]);
    assert.equal(out, "1 from init\n");
    assert.equal(result.exitCode, 0);
    await deleteContainer(b.stateRoot, id);
    assertNoLeftovers(b, id, c.pid);
  } finally {
    await cleanup(b, id);
    b.close();
  }
});

Deno.test("berth runtime __init refuses to run outside a launch", async () => {
  const r = await berthRuntime(["__init"]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /internal/);
});

Deno.test(
  { name: "createContainer() joins another container's network namespace by path", ignore },
  async () => {
    const b = makeBundle();
    const first = uniqueId("netns");
    const second = uniqueId("netns");
    try {
      b.write({ args: ["sleep", "60"] });
      const c1 = await createContainer(b.dir, first, {
        self,
        stateRoot: b.stateRoot,
        pdeathsig: true,
      });
      await startContainer(c1);
      const hostView = Deno.readLinkSync(`/proc/${c1.pid}/ns/net`);
      assert.notEqual(hostView, Deno.readLinkSync("/proc/self/ns/net"));
      b.write({ args: ["readlink", "/proc/self/ns/net"] }, (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
          n.type === "network" ? { type: "network", path: `/proc/${c1.pid}/ns/net` } : n
        );
      });
      const c2 = await createContainer(b.dir, second, {
        self,
        stateRoot: b.stateRoot,
        stdio: { stdin: "null", stdout: "piped", stderr: "inherit" },
      });
      await startContainer(c2);
      const [out, result] = await Promise.all([
        new Response(c2.child.stdout).text(),
        waitContainer(c2),
      ]);
      assert.equal(result.exitCode, 0);
      assert.equal(out.trim(), hostView);
      assert.equal(
        Deno.readLinkSync("/proc/self/ns/net"),
        Deno.readLinkSync("/proc/thread-self/ns/net"),
      );
      await deleteContainer(b.stateRoot, first, { force: true });
      await deleteContainer(b.stateRoot, second);
      assertNoLeftovers(b, first, c1.pid);
      assertNoLeftovers(b, second, c2.pid);
    } finally {
      await cleanup(b, first);
      await cleanup(b, second);
      b.close();
    }
  },
);

Deno.test({
  name:
    "createContainer() calls beforeSetup with init's pid before the root is built; a throw undoes it",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("hook");
  const id2 = uniqueId("hook");
  try {
    b.write({ args: ["cat", "/from-hook"] });
    let seen: { pid: number; net: string } | undefined;
    const c = await createContainer(b.dir, id, {
      self,
      stateRoot: b.stateRoot,
      stdio: { stdin: "null", stdout: "piped", stderr: "inherit" },
      beforeSetup: (pid) => {
        seen = { pid, net: Deno.readLinkSync(`/proc/${pid}/ns/net`) };
        Deno.writeTextFileSync(`${b.dir}/rootfs/from-hook`, `pid ${pid}\n`);
      },
    });
    assert.equal(seen?.pid, c.pid);
    assert.notEqual(
      seen?.net,
      Deno.readLinkSync("/proc/self/ns/net"),
      "init is already in its own network namespace",
    );
    await startContainer(c);
    const [out, result] = await Promise.all([
      new Response(c.child.stdout).text(),
      waitContainer(c),
    ]);
    assert.equal(out, `pid ${c.pid}\n`);
    assert.equal(result.exitCode, 0);
    await deleteContainer(b.stateRoot, id);
    assertNoLeftovers(b, id, c.pid);

    let hookPid = 0;
    await assert.rejects(
      createContainer(b.dir, id2, {
        self,
        stateRoot: b.stateRoot,
        beforeSetup: (pid) => {
          hookPid = pid;
          throw new Error("network setup failed");
        },
      }),
      /network setup failed/,
    );
    assertNoLeftovers(b, id2, hookPid);
  } finally {
    await cleanup(b, id);
    await cleanup(b, id2);
    b.close();
  }
});

Deno.test(
  { name: "startContainer() refuses a created container whose init died", ignore },
  async () => {
    const b = makeBundle();
    const id = uniqueId("dead");
    try {
      b.write({ args: ["true"] });
      const c = await createContainer(b.dir, id, { self, stateRoot: b.stateRoot });
      killContainer(b.stateRoot, id, "KILL");
      await c.child.status;
      await assert.rejects(startContainer(c), /Cannot start container ".*": container is stopped/);
      await deleteContainer(b.stateRoot, id);
      assertNoLeftovers(b, id, c.pid);
    } finally {
      await cleanup(b, id);
      b.close();
    }
  },
);

Deno.test(
  { name: "createContainer() runs several containers at once from one process", ignore },
  async () => {
    const b = makeBundle();
    const ids = Array.from({ length: 5 }, () => uniqueId("many"));
    try {
      b.write({ args: ["sh", "-c", "echo $$ $(hostname)"] });
      const results = await Promise.all(ids.map(async (id) => {
        const c = await createContainer(b.dir, id, {
          self,
          stateRoot: b.stateRoot,
          pdeathsig: true,
          stdio: { stdin: "null", stdout: "piped", stderr: "inherit" },
        });
        await startContainer(c);
        const [out, result] = await Promise.all([
          new Response(c.child.stdout).text(),
          waitContainer(c),
        ]);
        await deleteContainer(b.stateRoot, id);
        return { id, pid: c.pid, out, code: result.exitCode };
      }));
      for (const r of results) {
        assert.equal(r.code, 0);
        assert.equal(r.out, "1 ctr\n");
        assertNoLeftovers(b, r.id, r.pid);
      }
    } finally {
      for (const id of ids) await cleanup(b, id);
      b.close();
    }
  },
);

Deno.test({
  name:
    "hooks: createRuntime, poststart and poststop get the state on stdin; a failing createRuntime undoes create",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("hooks");
  const id2 = uniqueId("hooks");
  const log = `${b.dir}/hooks.log`;
  const hook = (stage: string) => ({
    path: "/bin/sh",
    args: ["sh", "-c", `{ echo ${stage} $STAGE_ENV; cat; echo; } >> ${log}`],
    env: ["STAGE_ENV=env-ok"],
    timeout: 10,
  });
  try {
    b.write({ args: ["sleep", "30"] }, (s) => {
      s.hooks = {
        createRuntime: [hook("createRuntime")],
        poststart: [hook("poststart")],
        poststop: [hook("poststop")],
      };
    });
    const c = await createContainer(b.dir, id, { self, stateRoot: b.stateRoot });
    await startContainer(c);
    killContainer(b.stateRoot, id, "KILL");
    await waitContainer(c);
    await deleteContainer(b.stateRoot, id);
    const lines = Deno.readTextFileSync(log).trim().split("\n");
    assert.deepEqual(lines.filter((_, i) => i % 2 === 0), [
      "createRuntime env-ok",
      "poststart env-ok",
      "poststop env-ok",
    ]);
    const states = lines.filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l));
    assert.deepEqual(states.map((s) => [s.id, s.status, s.bundle]), [
      [id, "creating", b.dir],
      [id, "running", b.dir],
      [id, "stopped", b.dir],
    ]);
    assert.equal(states[0].pid, c.pid);
    assertNoLeftovers(b, id, c.pid);

    b.write({ args: ["true"] }, (s) => {
      s.hooks = {
        createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", "echo no network >&2; exit 3"] }],
      };
    });
    await assert.rejects(
      createContainer(b.dir, id2, { self, stateRoot: b.stateRoot }),
      /Hook "\/bin\/sh" failed: exit status 3: no network/,
    );
    assertNoLeftovers(b, id2);
  } finally {
    await cleanup(b, id);
    await cleanup(b, id2);
    b.close();
  }
});
