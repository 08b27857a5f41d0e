/**
 * `exec -it` under conmon: Ctrl-P Ctrl-Q (or `--detach-keys`) leaves the
 * exec'd shell running, an attached exec ends with the process's exit code,
 * and nothing of a session outlives its container. Terminals are real ptys,
 * driven by script(1).
 */
import assert from "node:assert/strict";
import { withBusybox } from "./_containers.ts";
import { CTRL_P_Q, PtySession } from "./_pty.ts";

/** Host pids of processes whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || e.name === String(Deno.pid)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      if (cmd.includes(marker)) found.push(`${e.name}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return found;
}

Deno.test("exec -it: Ctrl-P Ctrl-Q detaches and the shell runs on; rm leaves nothing behind", async () => {
  await withBusybox(async (env) => {
    const { b } = env;
    assert.equal((await b(["run", "-d", "--name", "host", "busybox", "sleep", "600"])).code, 0);
    const session = new PtySession(env, ["exec", "-it", "host", "sh"]);
    await session.expect(/\/ # /);
    await session.send("echo in-$((20+3))\n");
    await session.expect(/in-23/);
    await session.send("exec sleep 4242\n");
    await new Promise((r) => setTimeout(r, 300));
    await session.send(CTRL_P_Q);
    assert.equal(await session.status(), 0, session.output);
    const top = await b(["top", "host"]);
    assert.match(top.stdout, /sleep 4242/, "the exec'd process runs on after the detach");
    const conmons = processesWith(env.dir).filter((p) => /conmon/.test(p));
    assert.ok(conmons.length >= 2, "the container's conmon and the session's");

    assert.equal((await b(["rm", "-f", "host"])).code, 0);
    const end = Date.now() + 10_000;
    let left = processesWith(env.dir);
    while (left.length > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      left = processesWith(env.dir);
    }
    assert.deepEqual(left, [], "no conmon or process outlives the container");
    assert.deepEqual(processesWith("sleep 4242"), []);
    let sockets: string[] = [];
    try {
      sockets = [...Deno.readDirSync(`${env.dir}/run/conmon`)].map((e) => e.name);
    } catch {
      // never made
    }
    assert.deepEqual(sockets, [], "no attach socket directory outlives the container");
  });
});

Deno.test("exec -it --detach-keys; an attached exec ends with the process's exit code", async () => {
  await withBusybox(async (env) => {
    const { b } = env;
    assert.equal((await b(["run", "-d", "--name", "host", "busybox", "sleep", "600"])).code, 0);
    const custom = new PtySession(env, ["exec", "-it", "--detach-keys", "ctrl-a,x", "host", "sh"]);
    await custom.expect(/\/ # /);
    // Ctrl-P Ctrl-Q is typed through when other keys are set; Ctrl-A then x detaches.
    await custom.send(CTRL_P_Q);
    await custom.send("echo still-$((5*5))\n");
    await custom.expect(/still-25/);
    await custom.send("\x01x");
    assert.equal(await custom.status(), 0, custom.output);

    const five = new PtySession(env, ["exec", "-it", "host", "sh", "-c", "echo ran; exit 5"]);
    await five.expect(/ran/);
    assert.equal(await five.status(), 5, five.output);

    const missing = new PtySession(env, ["exec", "-it", "host", "nosuchcmd"]);
    // docker's 126 for a command that cannot start, its message on stdout.
    assert.equal(await missing.status(), 126, missing.output);
    assert.match(missing.output, /executable file not found/);
    assert.equal((await b(["rm", "-f", "host"])).code, 0);
  });
});
