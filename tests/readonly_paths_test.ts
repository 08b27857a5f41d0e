/**
 * The read-only commands' shortcuts keep Docker's answers: `images` lists
 * from its kept summaries what it would list from the blobs, and `ps` and
 * `inspect`, which read records without the monitor's code, still notice a
 * record whose monitor is gone.
 */
import assert from "node:assert/strict";
import { berth, makeRootfs, withTempDir } from "./_helpers.ts";

const ROWS = "{{.ID}} {{.Repository}}:{{.Tag}} {{.Size}} {{.CreatedAt}}";

async function images(root: string): Promise<string> {
  const out = await berth(root, ["images", "--no-trunc", "--format", ROWS]);
  assert.equal(out.code, 0, out.stderr);
  return out.stdout;
}

Deno.test("images lists the same rows from its kept summaries, a damaged file and none", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = await makeRootfs(`${dir}/rootfs.tar`);
    for (const name of ["one:1", "two:2"]) {
      assert.equal((await berth(root, ["import", tarball, name])).code, 0);
    }
    assert.equal((await berth(root, ["tag", "one:1", "one:again"])).code, 0);
    const summaries = `${root}/image-summaries.json`;
    assert.throws(() => Deno.statSync(summaries), Deno.errors.NotFound, "nothing listed yet");
    const fromBlobs = await images(root);
    assert.equal(fromBlobs.trim().split("\n").length, 3, fromBlobs);
    const kept = JSON.parse(Deno.readTextFileSync(summaries));
    assert.equal(Object.keys(kept).length, 2, "one entry per manifest");
    assert.equal(await images(root), fromBlobs, "from the kept summaries");

    Deno.writeTextFileSync(summaries, '{"sha256:00":{"id":"nope"},');
    assert.equal(await images(root), fromBlobs, "a damaged file is read from the blobs again");
    Deno.writeTextFileSync(summaries, JSON.stringify({ ...kept, [Object.keys(kept)[0]!]: 7 }));
    assert.equal(await images(root), fromBlobs, "so is a damaged entry");

    assert.equal((await berth(root, ["rmi", "two:2"])).code, 0);
    const left = await images(root);
    assert.deepEqual(left, fromBlobs.split("\n").filter((l) => !l.includes(" two:2 ")).join("\n"));
    assert.equal(Object.keys(JSON.parse(Deno.readTextFileSync(summaries))).length, 1);
  });
});

Deno.test("ps and inspect show a container whose monitor is gone as exited", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const b = (args: string[]) => berth(root, ["--run-root", `${dir}/run`, ...args]);
    const tarball = await makeRootfs(`${dir}/rootfs.tar`);
    assert.equal((await b(["import", tarball, "busybox"])).code, 0);
    const id = (await b(["create", "--name", "web", "busybox", "sleep", "60"])).stdout.trim();
    // A record as a monitor leaves it when SIGKILL ends it mid-run: running, with its pid.
    const gone = new Deno.Command("true").spawn();
    const { pid } = gone;
    await gone.status;
    const path = `${root}/containers/${id}/container.json`;
    const record = JSON.parse(Deno.readTextFileSync(path));
    record.State = { ...record.State, Status: "running", Running: true, Pid: pid };
    record.Monitor = { pid, startTime: "1" };
    Deno.writeTextFileSync(path, JSON.stringify(record));

    const inspect = await b([
      "inspect",
      "--format",
      "{{.State.Status}} {{.State.ExitCode}}",
      "web",
    ]);
    assert.equal(inspect.stdout, "exited 137\n", inspect.stderr);
    assert.equal(JSON.parse(Deno.readTextFileSync(path)).State.Status, "exited");

    Deno.writeTextFileSync(path, JSON.stringify(record));
    const ps = await b(["ps", "--format", "{{.Names}}"]);
    assert.equal(ps.stdout, "", "not running any more");
    const all = await b(["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    assert.equal(all.stdout, "web exited\n");
  });
});
