/**
 * `exec -it` under conmon: Ctrl-P Ctrl-Q (or `--detach-keys`) leaves the
 * exec'd shell running, an attached exec ends with the process's exit code,
 * and nothing of a session outlives its container. Terminals are real ptys,
 * driven by script(1).
 */
import assert from "node:assert/strict";
import { REPO } from "./_helpers.ts";
import { type Env, withBusybox } from "./_containers.ts";

const CTRL_P_Q = "\x10\x11";

/** A berth command on a pty (script(1)), with its input written and its output watched as it goes. */
class PtySession {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #output = "";
  #done: Promise<void>;

  constructor(env: Env, args: string[]) {
    const quoted = args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
    const cmd = `${Deno.execPath()} run -A --quiet ${REPO}main.ts --root ${env.dir}/root ` +
      `--run-root ${env.dir}/run ${quoted}`;
    const child = new Deno.Command("script", {
      args: ["-qefc", cmd, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#done = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stdout) this.#output += decoder.decode(chunk);
    })();
  }

  get output(): string {
    return this.#output;
  }

  async send(text: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(text));
  }

  /** Waits until the output matches, failing after 15 s. */
  async expect(pattern: RegExp): Promise<void> {
    const end = Date.now() + 15_000;
    while (!pattern.test(this.#output)) {
      if (Date.now() > end) assert.fail(`no ${pattern} in output: ${JSON.stringify(this.#output)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The exit status of berth (script -e passes it on). */
  async status(): Promise<number> {
    const end = setTimeout(() => this.#child.kill("SIGKILL"), 20_000);
    const { code } = await this.#child.status;
    clearTimeout(end);
    await this.#done;
    await this.#writer.close().catch(() => {});
    await this.#child.stderr.cancel();
    return code;
  }
}

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
