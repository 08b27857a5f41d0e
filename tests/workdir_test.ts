/**
 * `-w` and the image's WORKDIR name a directory the container may not have:
 * berth creates it as Docker does, inside the container's root, following a
 * symlink component the way the container sees it (never onto the host).
 */
import assert from "node:assert/strict";
import { run } from "./_helpers.ts";
import { withBusybox } from "./_containers.ts";

/**
 * A busybox rootfs tarball with symlinks that would lead out of the root if
 * followed on the host: /abs -> `outside` (absolute), /up -> ../../../../.. .
 */
async function tarballWithLinks(dir: string, outside: string): Promise<string> {
  const base = `${dir}/links`;
  Deno.mkdirSync(base);
  // withBusybox made this one.
  const x = await run("tar", ["-xzf", `${dir}/rootfs.tar.gz`, "-C", base]);
  assert.equal(x.code, 0, x.stderr);
  Deno.symlinkSync(outside, `${base}/abs`);
  Deno.symlinkSync("../../../../..", `${base}/up`);
  const out = `${dir}/links.tar.gz`;
  const c = await run("tar", ["--numeric-owner", "-C", base, "-czf", out, "."]);
  assert.equal(c.code, 0, c.stderr);
  return out;
}

Deno.test("run -w creates a missing directory and starts there", async () => {
  await withBusybox(async ({ b }) => {
    const out = await b(["run", "--rm", "-w", "/new/dir", "busybox", "sh", "-c", "pwd; ls -ld ."]);
    assert.equal(out.code, 0, out.stderr);
    const [pwd, ls] = out.stdout.split("\n");
    assert.equal(pwd, "/new/dir");
    assert.match(ls!, /^drwxr-xr-x\s+\d+\s+root\s+root\s/);
  });
});

Deno.test("create -w makes the directory when the container starts", async () => {
  await withBusybox(async ({ b }) => {
    const c = await b(["create", "--name", "wd", "-w", "/a/b/c", "busybox", "pwd"]);
    assert.equal(c.code, 0, c.stderr);
    const s = await b(["start", "-a", "wd"]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, "/a/b/c\n");
  });
});

Deno.test("the image's WORKDIR is created when the image lacks it", async () => {
  await withBusybox(async ({ dir, b }) => {
    const tarball = `${dir}/rootfs.tar.gz`;
    const imp = await b(["import", "--change", "WORKDIR /srv/app", tarball, "wdimg"]);
    assert.equal(imp.code, 0, imp.stderr);
    const out = await b(["run", "--rm", "wdimg", "pwd"]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "/srv/app\n");
  });
});

Deno.test("a -w through a symlink is resolved inside the container, never on the host", async () => {
  await withBusybox(async ({ dir, b }) => {
    const outside = `${dir}/outside`;
    const tarball = await tarballWithLinks(dir, outside);
    const imp = await b(["import", tarball, "links"]);
    assert.equal(imp.code, 0, imp.stderr);
    const abs = await b([
      "run",
      "--rm",
      "-w",
      "/abs/made",
      "links",
      "sh",
      "-c",
      `pwd; ls -d ${outside}/made`,
    ]);
    assert.equal(abs.code, 0, abs.stderr);
    // In the container: the symlink's target, under its root.
    assert.equal(abs.stdout, `${outside}/made\n${outside}/made\n`);
    const inside = await b([
      "run",
      "--rm",
      "-w",
      "/up/escaped",
      "links",
      "sh",
      "-c",
      "pwd -P",
    ]);
    assert.equal(inside.code, 0, inside.stderr);
    assert.equal(inside.stdout, "/escaped\n");
    assert.throws(() => Deno.statSync(outside), Deno.errors.NotFound, "nothing made on the host");
    assert.throws(() => Deno.statSync("/escaped"), Deno.errors.NotFound);
  });
});

Deno.test("a -w naming a file is refused with one line and exit 125", async () => {
  await withBusybox(async ({ b }) => {
    const out = await b(["run", "--rm", "-w", "/etc/passwd/x", "busybox", "pwd"]);
    assert.equal(out.code, 125, out.stderr);
    assert.equal(out.stdout, "");
    assert.match(out.stderr, /\/etc\/passwd\/x/);
  });
});

Deno.test("a relative -w is refused at create, as Docker does, and no container is made", async () => {
  await withBusybox(async ({ b }) => {
    for (const cmd of [["create"], ["run"], ["run", "--rm"]]) {
      const out = await b([...cmd, "-w", "rel/dir", "busybox", "pwd"]);
      // docker's create exits 1 for what its engine refuses, its run 125.
      assert.equal(out.code, cmd[0] === "create" ? 1 : 125, out.stderr);
      assert.equal(out.stdout, "");
      assert.equal(
        out.stderr,
        `Error: The working directory "rel/dir" is invalid, it needs to be an absolute path\n`,
      );
    }
    assert.equal((await b(["ps", "-aq"])).stdout, "");
  });
});
