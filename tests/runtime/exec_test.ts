/**
 * `berth runtime exec` (and `execInContainer()`): a second process joins a
 * running container's namespaces, cgroup and root; and `process.terminal`
 * through a real pty (driven by `script`).
 */
import assert from "node:assert/strict";
import { createContainer, deleteContainer, startContainer } from "../../lib/runtime/mod.ts";
import {
  assertNoLeftovers,
  berthRuntime,
  cleanup,
  makeBundle,
  REPO,
  SELF,
  SKIP_REASON,
  uniqueId,
} from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;
const self = SELF;

Deno.test({
  name: "runtime exec: joins the container's PID namespace, root, hostname and cgroup",
  ignore,
}, async (t) => {
  const b = makeBundle();
  const id = uniqueId("exec");
  const root = ["--root", b.stateRoot];
  try {
    b.write({
      args: ["sh", "-c", "echo inside > /tmp/marker; exec sleep 60"],
      resources: { pids: { limit: 20 } },
    }, (s) => {
      s.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }],
      };
    });
    const c = await createContainer(b.dir, id, {
      self,
      stateRoot: b.stateRoot,
      pdeathsig: true,
      stdio: { stdin: "null", stdout: "null", stderr: "null" },
    });
    await startContainer(c);
    await t.step("sees the container's processes and files", async () => {
      let r;
      for (let i = 0; i < 50; i++) {
        r = await berthRuntime([
          "exec",
          ...root,
          id,
          "sh",
          "-c",
          "cat /tmp/marker && ps -o pid,args && hostname",
        ]);
        if (r.code === 0) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      assert.equal(r!.code, 0, r!.stderr);
      assert.match(r!.stdout, /^inside\n/);
      assert.match(r!.stdout, /\n\s+1 sleep 60\n/);
      assert.match(r!.stdout, /\nctr\n$/);
    });
    await t.step("-u, -w and -e apply; the exit status comes back", async () => {
      const r = await berthRuntime([
        "exec",
        ...root,
        "-u",
        "1000:1000",
        "-w",
        "/tmp",
        "-e",
        "FOO=bar",
        id,
        "sh",
        "-c",
        "id; pwd; echo $FOO; exit 7",
      ]);
      assert.equal(r.code, 7);
      assert.equal(r.stdout, "uid=1000 gid=1000\n/tmp\nbar\n");
    });
    await t.step("the container's seccomp filter applies to exec'd processes", async () => {
      const r = await berthRuntime([
        "exec",
        ...root,
        id,
        "sh",
        "-c",
        "grep '^Seccomp:' /proc/self/status; mkdir /tmp/d",
      ]);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /^Seccomp:\s+2\n/);
      assert.match(r.stderr, /Operation not permitted/);
    });
    await t.step("127 for a missing command", async () => {
      const r = await berthRuntime(["exec", ...root, id, "nope"]);
      assert.equal(r.code, 127);
      assert.equal(r.stderr, 'Error: exec: "nope": executable file not found in $PATH\n');
    });
    await t.step("runs in the container's cgroup", async () => {
      const pids = await berthRuntime([
        "exec",
        ...root,
        id,
        "sh",
        "-c",
        "for i in $(seq 30); do sleep 1 >/dev/null 2>&1 & done",
      ]);
      assert.notEqual(pids.code, 0, "the pids limit applies to exec'd processes");
    });
    c.child.kill("SIGKILL");
    await c.child.status;
    await t.step("refused once the container stopped", async () => {
      const r = await berthRuntime(["exec", ...root, id, "true"]);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /container is stopped/);
    });
    assert.equal((await berthRuntime(["delete", ...root, id])).code, 0);
    assertNoLeftovers(b, id, c.pid);
  } finally {
    await cleanup(b, id);
    b.close();
  }
});

const hasScript = (() => {
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/** Runs `cmd` under `script` (a real pty of size 33x101); stdin stays open, or script would type EOF into it. */
async function inPty(cmd: string): Promise<{ code: number; text: string }> {
  const child = new Deno.Command("script", {
    args: ["-qec", `stty rows 33 cols 101; ${cmd}`, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await child.output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

const berthCmd = `${Deno.execPath()} run -A --quiet ${REPO}main.ts runtime`;

Deno.test({
  name:
    "runtime run/exec: process.terminal gives a pty of the container's devpts with the caller's size",
  ignore: ignore || !hasScript,
}, async (t) => {
  const b = makeBundle();
  const id = uniqueId("tty");
  const id2 = uniqueId("tty");
  try {
    await t.step("run", async () => {
      b.write({
        args: [
          "sh",
          "-c",
          "test -t 0 && test -t 1 && tty; stty size; echo $TERM; ls /dev/pts; exit 3",
        ],
        terminal: true,
      });
      const r = await inPty(`${berthCmd} run --root ${b.stateRoot} --bundle ${b.dir} ${id}`);
      assert.equal(r.code, 3, r.text);
      // Raw mode on the caller's terminal: one \r\n per line, not two.
      assert.match(r.text, /\/dev\/pts\/0\r\n33 101\r\nxterm\r\n0\s+ptmx\r\n/);
      assertNoLeftovers(b, id);
    });
    await t.step("exec -t", async () => {
      b.write({ args: ["sleep", "60"] });
      const c = await createContainer(b.dir, id2, {
        self,
        stateRoot: b.stateRoot,
        pdeathsig: true,
        stdio: { stdin: "null", stdout: "null", stderr: "null" },
      });
      await startContainer(c);
      const r = await inPty(
        `${berthCmd} exec -t --root ${b.stateRoot} ${id2} sh -c 'tty; stty size; exit 4'`,
      );
      assert.equal(r.code, 4, r.text);
      assert.match(r.text, /\/dev\/pts\/0\r\n33 101\r\n/);
      await deleteContainer(b.stateRoot, id2, { force: true });
      await c.child.status;
      assertNoLeftovers(b, id2, c.pid);
    });
  } finally {
    await cleanup(b, id);
    await cleanup(b, id2);
    b.close();
  }
});
