/**
 * `--privileged` exposes the host's device nodes and allows every device,
 * as Docker does; a default container sees and opens none of them.
 */
import assert from "node:assert/strict";
import { withBusybox } from "./_containers.ts";

/** A host node outside the default set, harmless to open (no read, no ioctl). */
const NODE = "/dev/loop-control";
const exists = (path: string) => {
  try {
    return Deno.lstatSync(path).isCharDevice === true;
  } catch {
    return false;
  }
};
const ignore = !exists(NODE);
// deno-lint-ignore no-console
if (ignore) console.log(`privileged tests skipped: the host has no ${NODE}`);

/** Names of the host's character and block devices directly in /dev (console aside). */
function hostDeviceNames(): string[] {
  return [...Deno.readDirSync("/dev")].filter((e) => {
    if (e.isDirectory || e.isSymlink || e.name === "console") return false;
    const st = Deno.lstatSync(`/dev/${e.name}`);
    return st.isCharDevice === true || st.isBlockDevice === true;
  }).map((e) => e.name).sort();
}

const PROBE = `ls -1 /dev; echo --; stat -c '%F %t:%T %a %u:%g' ${NODE}; ` +
  `(: < ${NODE}) && echo opened; readlink /dev/ptmx; ` +
  "mknod /tmp/lc c 10 237 && (: < /tmp/lc) && echo made-and-opened; true";

Deno.test({ name: "run --privileged sees and opens the host's device nodes", ignore }, async () => {
  await withBusybox(async ({ b }) => {
    const out = await b(["run", "--rm", "--privileged", "busybox", "sh", "-c", PROBE]);
    assert.equal(out.code, 0, out.stderr);
    const [list, rest] = out.stdout.split("--\n");
    const inside = new Set(list!.trim().split("\n"));
    const missing = hostDeviceNames().filter((n) => !inside.has(n));
    assert.deepEqual(missing, [], "every host device node is in the container's /dev");
    const st = Deno.lstatSync(NODE);
    const mode = (st.mode! & 0o7777).toString(8);
    assert.equal(
      rest,
      `character special file a:ed ${mode} ${st.uid}:${st.gid}\nopened\npts/ptmx\nmade-and-opened\n`,
    );
    assert.equal(out.stderr, "");
  });
});

Deno.test({ name: "a default container neither sees nor opens them", ignore }, async () => {
  await withBusybox(async ({ b }) => {
    const out = await b(["run", "--rm", "busybox", "sh", "-c", PROBE]);
    assert.equal(out.code, 0, out.stderr);
    const [list, rest] = out.stdout.split("--\n");
    assert.ok(!list!.split("\n").includes("loop-control"), list!);
    assert.equal(rest, "pts/ptmx\n");
    assert.match(out.stderr, /can't stat '\/dev\/loop-control'/);
    assert.match(out.stderr, /can't open \/tmp\/lc: Operation not permitted/);
  });
});
