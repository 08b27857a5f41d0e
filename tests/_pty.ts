/**
 * A berth command on a real terminal (script(1)'s pty) for the attach and
 * exec tests: input written as a user types it, output watched as it comes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { REPO } from "./_helpers.ts";
import type { Env } from "./_containers.ts";

/** Docker's default detach keys. */
export const CTRL_P_Q = "\x10\x11";

/** A berth command on a pty (script(1)), with its input written and its output watched as it goes. */
export class PtySession {
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
