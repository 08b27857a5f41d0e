/**
 * `run -t` and `run -it` through a real terminal (script(1)'s pty, with a
 * size set by stty): the container's pty has the terminal's size before its
 * process starts, and the terminal shows the container's output and nothing
 * of berth's own.
 */
import assert from "node:assert/strict";
import { REPO, run } from "./_helpers.ts";
import { withBusybox } from "./_containers.ts";

/**
 * Runs berth's `args` in a new pty of 30 rows and 100 columns. script's own
 * stdin is empty: it sends the terminal's end-of-file character at once,
 * while berth may not yet have put the terminal in raw mode.
 */
function inTerminal(dir: string, args: string): Promise<{ code: number; stdout: string }> {
  const berth =
    `${Deno.execPath()} run -A --quiet ${REPO}main.ts --root ${dir}/root --run-root ${dir}/run`;
  return run("script", ["-qefc", `stty cols 100 rows 30; ${berth} ${args}`, "/dev/null"]);
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
