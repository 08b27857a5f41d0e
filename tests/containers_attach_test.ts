/**
 * Attaching and detaching: Ctrl-P Ctrl-Q on `run -it` leaves the container
 * running, `attach` joins it again from another process, input and output
 * go through the container's monitor, and the attach ends with the
 * container's exit code. Terminals are real ptys, driven by script(1).
 */
import assert from "node:assert/strict";
import { berthArgs, listDir } from "./_helpers.ts";
import { withBusybox } from "./_containers.ts";
import { CTRL_P_Q, PtySession } from "./_pty.ts";

Deno.test("run -it: Ctrl-P Ctrl-Q detaches, attach joins again and gets the exit code", async () => {
  await withBusybox(async (env) => {
    const { b } = env;
    const first = new PtySession(env, ["run", "-it", "--name", "box", "busybox", "sh"]);
    await first.expect(/\/ # /);
    await first.send("echo one-$((1+1))\n");
    await first.expect(/one-2/);
    // Ctrl-C is a byte for the container's terminal: it interrupts the sleep, not berth.
    await first.send("sleep 60; echo after-$((3+4))\n");
    await new Promise((r) => setTimeout(r, 300));
    await first.send("\x03");
    await first.send("echo interrupted-$((4+4))\n");
    await first.expect(/interrupted-8/);
    assert.doesNotMatch(first.output, /after-7/, "the interrupted command line did not go on");
    await first.send(CTRL_P_Q);
    assert.equal(await first.status(), 0, first.output);
    // The container's own \r\n reaches the screen once: the terminal is in raw mode.
    assert.doesNotMatch(first.output, /\r\r\n/);

    const ps = await b(["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert.match(ps.stdout, /^box Up/m, "the container runs on after the detach");
    assert.match((await b(["logs", "box"])).stdout, /one-2/);

    const second = new PtySession(env, ["attach", "box"]);
    // attach shows new output only; a newline brings a fresh prompt.
    await second.send("\n");
    await second.expect(/\/ # /);
    await second.send("echo back-$((2+3))\n");
    await second.expect(/back-5/);
    await second.send("exit 7\n");
    assert.equal(await second.status(), 7, second.output);
    const state = await b(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "box"]);
    assert.equal(state.stdout.trim(), "exited 7");
  });
});

Deno.test("attach to run -dit with custom detach keys; the detach is reported as Docker does", async () => {
  await withBusybox(async (env) => {
    const { b } = env;
    assert.equal((await b(["run", "-dit", "--name", "bg", "busybox", "sh"])).code, 0);
    const session = new PtySession(env, ["attach", "--detach-keys", "ctrl-a,x", "bg"]);
    await session.send("echo typed-$((6*7))\n");
    await session.expect(/typed-42/);
    // Ctrl-A alone followed by something else is typed through, not a detach.
    await session.send("\x01");
    await session.send("echo still-here\n");
    await session.expect(/still-here/);
    await session.send("\x01x");
    assert.equal(await session.status(), 1);
    assert.match(session.output, /read escape sequence/);
    const ps = await b(["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert.match(ps.stdout, /^bg Up/m);
  });
});

Deno.test("attach without a tty streams output and ends with the container's exit code", async () => {
  await withBusybox(async ({ b, dir }) => {
    const started = await b([
      "run",
      "-d",
      "--name",
      "ticker",
      "busybox",
      "sh",
      "-c",
      "trap 'echo bye; exit 3' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done",
    ]);
    assert.equal(started.code, 0, started.stderr);
    const attach = new Deno.Command(Deno.execPath(), {
      args: berthArgs(`${dir}/root`, [
        "--run-root",
        `${dir}/run`,
        "attach",
        "--no-stdin",
        "ticker",
      ]),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const chunks: string[] = [];
    const reading = (async () => {
      for await (const c of attach.stdout) chunks.push(new TextDecoder().decode(c));
    })();
    const end = Date.now() + 15_000;
    while (!/tick \d+/.test(chunks.join("")) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(chunks.join(""), /tick \d+/, "attach shows the running container's output");
    assert.equal((await b(["stop", "-t", "5", "ticker"])).code, 0);
    const { code } = await attach.status;
    await reading;
    await attach.stderr.cancel();
    assert.equal(code, 3, "attach ends with the container's exit code");
    assert.match(chunks.join(""), /bye/);
  });
});

Deno.test("run -i pipes stdin through the monitor; bad attach requests fail cleanly", async () => {
  await withBusybox(async ({ b, dir }) => {
    const piped = await b(["run", "-i", "--rm", "busybox", "sh", "-c", "tr a-z A-Z; exit 5"], {
      stdin: new TextEncoder().encode("hello through the monitor\n"),
    });
    assert.equal(piped.code, 5, piped.stderr);
    assert.equal(piped.stdout, "HELLO THROUGH THE MONITOR\n");

    const badKeys = await b(["run", "-i", "--detach-keys", "ctrl-1", "busybox", "true"]);
    assert.equal(badKeys.code, 125);
    assert.equal(badKeys.stderr, "Error: Invalid detach keys (ctrl-1) provided\n");
    assert.equal((await b(["ps", "-aq"])).stdout, "", "a bad flag leaves no container");

    assert.equal((await b(["create", "--name", "idle", "busybox", "true"])).code, 0);
    const stopped = await b(["attach", "idle"]);
    assert.equal(stopped.code, 1);
    assert.equal(
      stopped.stderr,
      "Error: You cannot attach to a stopped container, start it first\n",
    );
    const missing = await b(["attach", "nosuch"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No such container: nosuch/);
    assert.deepEqual(listDir(`${dir}/run/attach`), [], "no attach socket outlives its monitor");
  });
});

Deno.test("an attach whose monitor is killed ends with one error line; ps then shows the container exited", async () => {
  await withBusybox(async ({ b, dir }) => {
    const started = await b(["run", "-d", "--name", "orphan", "busybox", "sleep", "600"]);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    const record = JSON.parse(Deno.readTextFileSync(`${dir}/root/containers/${id}/container.json`));
    const attach = new Deno.Command(Deno.execPath(), {
      args: berthArgs(`${dir}/root`, [
        "--run-root",
        `${dir}/run`,
        "attach",
        "--no-stdin",
        "orphan",
      ]),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Wait until the attach is connected: the monitor holds one more socket then.
    const end = Date.now() + 15_000;
    const sockets = () =>
      [...Deno.readDirSync(`/proc/${record.Monitor.pid}/fd`)].filter((e) => {
        try {
          return Deno.readLinkSync(`/proc/${record.Monitor.pid}/fd/${e.name}`).startsWith(
            "socket:",
          );
        } catch {
          return false;
        }
      }).length;
    const before = sockets();
    while (sockets() === before && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(sockets() > before, "the attach connected");
    Deno.kill(record.Monitor.pid, "SIGKILL");
    const out = await attach.output();
    assert.equal(out.code, 1);
    assert.equal(
      new TextDecoder().decode(out.stderr),
      "Error: The container's monitor exited unexpectedly\n",
    );
    const ps = await b(["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    assert.match(ps.stdout, /^orphan Exited \(137\)/m);
    assert.deepEqual(listDir(`${dir}/run/attach`), [], "the dead monitor's socket is cleared");
  });
});
