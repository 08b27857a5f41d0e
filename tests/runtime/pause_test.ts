/**
 * `pauseContainer()`/`resumeContainer()` (the freezer cgroup) and
 * `containerStats()`/`containerPids()` on a running container.
 */
import assert from "node:assert/strict";
import {
  containerPids,
  containerStats,
  createContainer,
  deleteContainer,
  isFrozen,
  pauseContainer,
  resumeContainer,
  startContainer,
} from "../../lib/runtime/mod.ts";
import { assertNoLeftovers, cleanup, makeBundle, SELF, SKIP_REASON, uniqueId } from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;
const self = SELF;

Deno.test({
  name: "pauseContainer() freezes every process; resumeContainer() thaws; stats read the cgroup",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("pause");
  try {
    b.write({
      args: [
        "sh",
        "-c",
        "sleep 60 & sleep 60 & while true; do echo tick > /tmp/tick; sleep 0.05; done",
      ],
      resources: { memory: { limit: 64 << 20 }, pids: { limit: 50 } },
    });
    const c = await createContainer(b.dir, id, {
      self,
      stateRoot: b.stateRoot,
      pdeathsig: true,
      stdio: { stdin: "null", stdout: "null", stderr: "null" },
    });
    await startContainer(c);
    for (let i = 0; i < 200 && containerPids(b.stateRoot, id).length < 4; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const stats = containerStats(b.stateRoot, id);
    assert.equal(stats.memoryLimit, 64 << 20);
    assert.ok(stats.memoryUsage > 0);
    assert.ok(stats.cpuNanos > 0);
    assert.ok(stats.pids >= 3, `pids ${stats.pids}`);
    const pids = containerPids(b.stateRoot, id);
    assert.ok(pids.includes(c.pid));
    assert.ok(pids.length >= 3);

    await pauseContainer(b.stateRoot, id);
    const cg = c.cgroup;
    assert.equal(isFrozen(cg), true);
    for (const pid of pids) {
      assert.match(Deno.readTextFileSync(`/proc/${pid}/stat`), /\) [DS] /, "a frozen task sleeps");
    }
    await assert.rejects(pauseContainer(b.stateRoot, id), /already paused/);
    await resumeContainer(b.stateRoot, id);
    assert.equal(isFrozen(cg), false);

    // A paused container can still be removed by force.
    await pauseContainer(b.stateRoot, id);
    await deleteContainer(b.stateRoot, id, { force: true });
    await c.child.status;
    assertNoLeftovers(b, id, c.pid);
  } finally {
    await cleanup(b, id);
    b.close();
  }
});
