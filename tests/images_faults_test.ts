/**
 * Bad input and faults: one line on stderr, docker's exit code, and the store exactly
 * as it was; a `kill -9` in the middle of an import leaves a usable store.
 */
import assert from "node:assert/strict";
import { berth, berthArgs, listDir, makeRootfs, withTempDir } from "./_helpers.ts";

/** Every file of the store except the lock, with sizes: what must not change. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of Deno.readDirSync(dir)) {
      const path = `${dir}/${e.name}`;
      const name = `${rel}${e.name}`;
      if (name === "lock") continue;
      if (e.isDirectory && !name.startsWith("layers/")) walk(path, `${name}/`);
      else out.push(`${name} ${e.isDirectory ? "dir" : Deno.statSync(path).size}`);
    }
  };
  walk(root, "");
  return out.sort();
}

function oneLine(stderr: string): void {
  assert.equal(
    stderr.trimEnd().split("\n").length,
    1,
    `one line on stderr: ${JSON.stringify(stderr)}`,
  );
  assert.match(stderr, /^Error: /);
}

Deno.test("usage errors exit as docker's (125 a bad flag, 1 a bad command or argument count) with one line; --help and --version exit 0", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const cases: [string[], number][] = [
      [["images", "--bogus"], 125],
      [["frobnicate"], 1],
      [["image", "frob"], 1],
      [["tag", "only-one"], 1],
      [["images", "-f"], 125],
    ];
    for (const [args, code] of cases) {
      const out = await berth(root, args);
      assert.equal(out.code, code, args.join(" "));
      oneLine(out.stderr);
    }
    const help = await berth(root, ["images", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: {2}berth images \[OPTIONS\] \[REPOSITORY\[:TAG\]\]/);
    assert.match(help.stdout, /-q, --quiet/);
    const version = await berth(root, ["--version"]);
    assert.match(version.stdout, /^berth version \d+\.\d+\.\d+/);
  });
});

Deno.test("missing images and malformed references fail with Docker's words and change nothing", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
    assert.equal((await berth(root, ["import", tarball, "busybox"])).code, 0);
    const before = snapshot(root);
    const cases: [string[], RegExp][] = [
      [["image", "inspect", "nope"], /No such image: nope/],
      [["rmi", "nope:1"], /No such image: nope:1/],
      [["tag", "busybox", "Bad/Name"], /repository name must be lowercase/i],
      [["tag", "nope", "x"], /No such image: nope:latest/],
      [["save", "-o", `${dir}/x.tar`, "nope"], /No such image: nope:latest/],
      [["import", `${dir}/missing.tar`], /Cannot open ".*missing.tar": no such file or directory/],
      [["import", "--change", "FROB x", tarball], /FROB is not a valid change command/],
      [["history", "a b"], /invalid reference format/i],
    ];
    for (const [args, message] of cases) {
      const out = await berth(root, args);
      assert.equal(out.code, 1, `${args.join(" ")}: ${out.stderr}`);
      oneLine(out.stderr);
      assert.match(out.stderr, message);
    }
    assert.deepEqual(snapshot(root), before);
    assert.deepEqual(
      listDir(dir).filter((n) => n.includes("berth-save")),
      [],
      "no half-written save",
    );
  });
});

Deno.test("corrupt and truncated archives are refused and leave the store as it was", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const gz = Deno.readFileSync(await makeRootfs(`${dir}/rootfs.tar.gz`));
    assert.equal((await berth(root, ["import", `${dir}/rootfs.tar.gz`, "base"])).code, 0);
    assert.equal(
      (await berth(root, ["save", "--format", "oci", "-o", `${dir}/oci.tar`, "base"])).code,
      0,
    );
    const before = snapshot(root);

    Deno.writeFileSync(`${dir}/truncated.tar.gz`, gz.subarray(0, Math.floor(gz.length / 2)));
    const truncated = await berth(root, ["import", `${dir}/truncated.tar.gz`, "broken"]);
    assert.equal(truncated.code, 1);
    oneLine(truncated.stderr);

    const junk = new Uint8Array(4096).fill(7);
    const notTar = await berth(root, ["load"], { stdin: junk });
    assert.equal(notTar.code, 1);
    oneLine(notTar.stderr);

    // Flip one byte inside the layer blob of an OCI archive: its digest no longer matches.
    const archive = Deno.readFileSync(`${dir}/oci.tar`);
    const at = archive.length - 20_000;
    archive[at] = archive[at]! ^ 0xff;
    Deno.writeFileSync(`${dir}/tampered.tar`, archive);
    const tampered = await berth(`${dir}/fresh`, ["load", "-i", `${dir}/tampered.tar`]);
    assert.equal(tampered.code, 1);
    oneLine(tampered.stderr);
    assert.match(tampered.stderr, /[Dd]igest mismatch|Invalid/);
    assert.equal((await berth(`${dir}/fresh`, ["images", "-q"])).stdout, "");
    assert.deepEqual(listDir(`${dir}/fresh/blobs/sha256`), []);
    assert.deepEqual(listDir(`${dir}/fresh/tmp`), []);

    assert.deepEqual(snapshot(root), before);
  });
});

Deno.test("kill -9 during an import leaves a store that the next import uses", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = await makeRootfs(`${dir}/rootfs.tar`);
    const bytes = Deno.readFileSync(tarball);
    const child = new Deno.Command(Deno.execPath(), {
      args: berthArgs(root, ["import", "-", "victim"]),
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    // Half of the tarball, then wait until the import is visibly under way.
    await writer.write(bytes.subarray(0, bytes.length >> 1));
    for (let i = 0; i < 200 && listDir(`${root}/tmp`).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(listDir(`${root}/tmp`).length > 0, "the import staged files in tmp/");
    child.kill("SIGKILL");
    await child.status;
    await writer.close().catch(() => {});

    const ls = await berth(root, ["images", "-q"]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stdout, "");
    const again = await berth(root, ["import", tarball, "victim"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(listDir(`${root}/tmp`), [], "the killed import's leftovers are gone");
    assert.equal((await berth(root, ["images", "--format", "{{.Repository}}"])).stdout, "victim\n");
  });
});

Deno.test("two berth processes importing at once both land, and the store stays consistent", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
    const results = await Promise.all(
      ["a", "b", "c"].map((name) =>
        berth(root, ["import", "--change", `LABEL n=${name}`, tarball, name])
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const names = (await berth(root, ["images", "--format", "{{.Repository}}"])).stdout.trim()
      .split("\n").sort();
    assert.deepEqual(names, ["a", "b", "c"]);
    assert.equal(listDir(`${root}/layers`).length, 1, "the shared layer is stored once");
  });
});

Deno.test("a full disk fails the import with one line and leaves the store as it was", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/small`;
    Deno.mkdirSync(root);
    const tarball = await makeRootfs(`${dir}/rootfs.tar`);
    // A 1.5 MB file system cannot hold the 2 MB busybox layer.
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1500k", "tmpfs", root],
    }).output();
    assert.equal(mount.code, 0, new TextDecoder().decode(mount.stderr));
    try {
      assert.equal((await berth(root, ["images"])).code, 0);
      const before = snapshot(root);
      const out = await berth(root, ["import", tarball, "toobig"]);
      assert.equal(out.code, 1);
      oneLine(out.stderr);
      assert.match(
        out.stderr,
        /^Error: Cannot import ".*rootfs.tar": .*(No space left on device|ENOSPC)/,
      );
      assert.deepEqual(snapshot(root), before);
      assert.deepEqual(listDir(`${root}/tmp`), []);
    } finally {
      await new Deno.Command("umount", { args: [root] }).output();
    }
  });
});
