/**
 * An init started before its bundle exists (a foreground `run`'s): adopted
 * by createContainer when it fits, otherwise killed and replaced, and
 * discarded without a trace when no container is made.
 */
import assert from "node:assert/strict";
import {
  createContainer,
  deleteContainer,
  EarlyInit,
  startContainer,
  waitContainer,
} from "../../lib/runtime/mod.ts";
import {
  assertNoLeftovers,
  cleanup,
  makeBundle,
  processExists,
  SELF,
  SKIP_REASON,
  uniqueId,
} from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;
const self = SELF;
const piped = { stdin: "null", stdout: "piped", stderr: "piped" } as const;

Deno.test({
  name:
    "createContainer() adopts an EarlyInit: the container is that process, in its cgroup, with the spec's limits",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("early");
  let early: EarlyInit | undefined;
  try {
    b.write({
      args: ["sh", "-c", "cat /sys/fs/cgroup/pids/pids.max; echo $$; exit 3"],
      resources: { pids: { limit: 42 } },
    });
    early = EarlyInit.start(id, { self, stdio: piped, pdeathsig: true });
    const c = await createContainer(b.dir, id, {
      self,
      stateRoot: b.stateRoot,
      stdio: piped,
      pdeathsig: true,
      init: early,
    });
    assert.equal(c.pid, early.pid, "the early init became the container");
    assert.equal(
      Deno.readTextFileSync(`/sys/fs/cgroup/pids/berth/${id}/cgroup.procs`).trim(),
      String(c.pid),
    );
    await startContainer(c);
    const [out, result] = await Promise.all([
      new Response(c.child.stdout).text(),
      waitContainer(c),
      new Response(c.child.stderr).text(),
    ]);
    assert.equal(out, "42\n1\n");
    assert.deepEqual(result, { exitCode: 3, oomKilled: false });
    await early.discard();
    await deleteContainer(b.stateRoot, id);
    assertNoLeftovers(b, id, c.pid);
  } finally {
    await early?.discard();
    await cleanup(b, id);
    b.close();
  }
});

Deno.test({
  name:
    "createContainer() replaces an EarlyInit started with other stdio, and discard() leaves nothing",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("early");
  const unused = uniqueId("early");
  let early: EarlyInit | undefined;
  let other: EarlyInit | undefined;
  try {
    b.write({ args: ["sh", "-c", "echo own"] });
    early = EarlyInit.start(id, { self, stdio: { stdout: "null" }, pdeathsig: true });
    const c = await createContainer(b.dir, id, {
      self,
      stateRoot: b.stateRoot,
      stdio: piped,
      pdeathsig: true,
      init: early,
    });
    assert.notEqual(c.pid, early.pid);
    assert.equal(processExists(early.pid), false, "the early init is gone");
    await startContainer(c);
    const [out, result] = await Promise.all([
      new Response(c.child.stdout).text(),
      waitContainer(c),
      new Response(c.child.stderr).text(),
    ]);
    assert.deepEqual([out, result], ["own\n", { exitCode: 0, oomKilled: false }]);
    await deleteContainer(b.stateRoot, id);
    assertNoLeftovers(b, id, c.pid);

    // Never adopted (the run failed before its create): killed, reaped, cgroup removed.
    other = EarlyInit.start(unused, { self, stdio: piped, pdeathsig: true });
    assert.ok(processExists(other.pid));
    await other.discard();
    assertNoLeftovers(b, unused, other.pid);
  } finally {
    await early?.discard();
    await other?.discard();
    await cleanup(b, id);
    b.close();
  }
});
