/**
 * `run -t` and `run -it` through a real terminal (script(1)'s pty, with a
 * size set by stty): the container's pty has the terminal's size before its
 * process starts, and the terminal shows the container's output and nothing
 * of berth's own.
 */
import assert from "node:assert/strict";
import { REPO } from "./_helpers.ts";
import { withBusybox } from "./_containers.ts";

/**
 * Runs berth's `args` in a new pty of 30 rows and 100 columns. script's
 * stdin stays open (and empty) until berth ends, as a user's terminal does:
 * a closed one makes script send the terminal's end-of-file character,
 * which is input for the container, not something berth wrote.
 */
async function inTerminal(dir: string, args: string): Promise<{ code: number; stdout: string }> {
  const berth =
    `${Deno.execPath()} run -A --quiet ${REPO}main.ts --root ${dir}/root --run-root ${dir}/run`;
  const child = new Deno.Command("script", {
    args: ["-qefc", `stty cols 100 rows 30; ${berth} ${args}`, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await child.output();
  await child.stdin.close().catch(() => {});
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

for (const flags of ["-it", "-t"]) {
  Deno.test(`run ${flags}: stty size is the terminal's at once, and nothing else is written`, async () => {
    await withBusybox(async ({ dir }) => {
      const out = await inTerminal(dir, `run --rm ${flags} busybox stty size`);
      assert.equal(out.code, 0, JSON.stringify(out));
      // Exactly the container's output: no ^@ echoed from a stray NUL, no message of berth's.
      assert.equal(out.stdout, "30 100\r\n");
    });
  });
}

Deno.test("run -it: the container's stderr reaches the terminal alone, its exit code is run's", async () => {
  await withBusybox(async ({ dir }) => {
    const out = await inTerminal(dir, `run --rm -it busybox sh -c 'echo oops >&2; exit 3'`);
    assert.equal(out.code, 3, JSON.stringify(out));
    assert.equal(out.stdout, "oops\r\n");
  });
});
