/**
 * Image commands end to end, as a user runs them: import, images, inspect,
 * history, tag, rmi, save, load, prune, system df, and what bad input does.
 */
import assert from "node:assert/strict";
import { berth, listDir, makeRootfs, REPO, run, withTempDir } from "./_helpers.ts";

const SHA = /^sha256:[a-f0-9]{64}$/;

async function importBusybox(root: string, dir: string, name = "busybox", extra: string[] = []) {
  const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
  const out = await berth(root, ["import", ...extra, tarball, name]);
  assert.equal(out.code, 0, out.stderr);
  const id = out.stdout.trim();
  assert.match(id, SHA);
  return { id, tarball };
}

Deno.test("import then images, inspect and history show the image as Docker does", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const { id } = await importBusybox(root, dir, "busybox", [
      "--change",
      'CMD ["sh"]',
      "-c",
      "ENV A=1",
    ]);

    const ls = await berth(root, ["images"]);
    assert.equal(ls.code, 0, ls.stderr);
    const [header, row] = ls.stdout.trimEnd().split("\n");
    assert.match(header!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(
      row!,
      new RegExp(
        `^busybox\\s+latest\\s+${
          id.slice(7, 19)
        }\\s+(Less than a second|\\d+ seconds?) ago\\s+\\d+(\\.\\d+)?MB$`,
      ),
    );

    const json = await berth(root, ["image", "inspect", "busybox"]);
    assert.equal(json.code, 0, json.stderr);
    const [info] = JSON.parse(json.stdout);
    assert.equal(info.Id, id);
    assert.deepEqual(info.RepoTags, ["busybox:latest"]);
    assert.deepEqual(info.RepoDigests, []);
    assert.equal(info.Os, "linux");
    assert.equal(info.Architecture, "amd64");
    assert.deepEqual(info.Config.Cmd, ["sh"]);
    assert.deepEqual(info.Config.Env, ["A=1"]);
    assert.equal(info.RootFS.Type, "layers");
    assert.equal(info.RootFS.Layers.length, 1);
    assert.match(info.RootFS.Layers[0], SHA);
    assert.ok(info.Size > 1_000_000, "busybox is over 1 MB");

    const fmt = await berth(root, [
      "inspect",
      "--format",
      "{{.Id}} {{json .Config.Cmd}}",
      id.slice(7, 19),
    ]);
    assert.equal(fmt.stdout, `${id} ["sh"]\n`);

    const hist = await berth(root, ["history", "--no-trunc", "busybox"]);
    assert.equal(hist.code, 0, hist.stderr);
    const lines = hist.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.ok(lines[1]!.startsWith(id), lines[1]!);
    assert.match(lines[1]!, /Imported from .*rootfs\.tar\.gz/);
  });
});

Deno.test("images -q, --digests, --filter reference= and --format select and shape rows", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const { id } = await importBusybox(root, dir, "localhost:5000/team/app:v1");
    assert.equal((await berth(root, ["tag", "localhost:5000/team/app:v1", "other:2"])).code, 0);

    const q = await berth(root, ["images", "-q"]);
    assert.equal(q.stdout, `${id.slice(7, 19)}\n`);

    const filtered = await berth(root, [
      "images",
      "--filter",
      "reference=other:*",
      "--format",
      "{{.Repository}}:{{.Tag}} {{.ID}}",
    ]);
    assert.equal(filtered.stdout, `other:2 ${id.slice(7, 19)}\n`);

    const all = await berth(root, ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert.deepEqual(all.stdout.trim().split("\n").sort(), [
      "localhost:5000/team/app:v1",
      "other:2",
    ]);

    const json = await berth(root, ["images", "--format", "json", "other"]);
    const row = JSON.parse(json.stdout);
    assert.equal(row.Repository, "other");
    assert.equal(row.Tag, "2");
    assert.equal(row.ID, id.slice(7, 19));

    const digests = await berth(root, ["images", "--digests", "--no-trunc", "other"]);
    assert.match(digests.stdout.split("\n")[0]!, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
    assert.match(digests.stdout.split("\n")[1]!, new RegExp(`^other\\s+2\\s+<none>\\s+${id}`));

    const table = await berth(root, [
      "images",
      "--format",
      "table {{.Repository}}\\t{{.Tag}}",
      "other",
    ]);
    assert.match(table.stdout, /^REPOSITORY\s+TAG\nother\s+2\n$/);
  });
});

Deno.test("rmi untags while another tag remains and deletes with the last one", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const { id } = await importBusybox(root, dir, "busybox:1");
    await berth(root, ["tag", "busybox:1", "busybox:2"]);
    await berth(root, ["tag", "busybox:1", "elsewhere/box:1"]);

    const byId = await berth(root, ["rmi", id.slice(7, 19)]);
    assert.equal(byId.code, 1);
    assert.match(
      byId.stderr,
      /^Error: Conflict: unable to delete [a-f0-9]{12} \(must be forced\) - image is referenced in multiple repositories\n$/,
    );

    const first = await berth(root, ["rmi", "busybox:1"]);
    assert.equal(first.stdout, "Untagged: busybox:1\n");
    await berth(root, ["rmi", "elsewhere/box:1"]);
    const last = await berth(root, ["rmi", "busybox:2"]);
    assert.equal(last.code, 0, last.stderr);
    const lines = last.stdout.trim().split("\n");
    assert.equal(lines[0], "Untagged: busybox:2");
    assert.equal(lines[1], `Deleted: ${id}`);
    assert.deepEqual(listDir(`${root}/blobs/sha256`), []);
    assert.deepEqual(listDir(`${root}/layers`), []);
  });
});

Deno.test("a layer shared by two images survives rmi of one and goes with the last", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const { tarball } = await importBusybox(root, dir, "one");
    const two = await berth(root, ["import", "--change", "CMD echo two", tarball, "two"]);
    assert.equal(two.code, 0, two.stderr);
    const [a] = JSON.parse((await berth(root, ["image", "inspect", "one"])).stdout);
    const [b] = JSON.parse((await berth(root, ["image", "inspect", "two"])).stdout);
    assert.notEqual(a.Id, b.Id);
    assert.deepEqual(a.RootFS.Layers, b.RootFS.Layers);
    assert.equal(listDir(`${root}/layers`).length, 1, "one extracted layer for both");

    assert.equal((await berth(root, ["rmi", "one"])).code, 0);
    assert.equal(listDir(`${root}/layers`).length, 1);
    const layerDir = `${root}/layers/${listDir(`${root}/layers`)[0]}/diff`;
    assert.ok(Deno.statSync(`${layerDir}/bin/busybox`).isFile);
    const saved = await berth(root, ["save", "-o", `${dir}/two.tar`, "two"]);
    assert.equal(saved.code, 0, saved.stderr);

    assert.equal((await berth(root, ["rmi", "two"])).code, 0);
    assert.deepEqual(listDir(`${root}/layers`), []);
  });
});

Deno.test("save then load into a fresh root keeps the image ID and tag", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const { id } = await importBusybox(root, dir, "busybox:saved");
    const save = await berth(root, ["save", "-o", `${dir}/out.tar`, "busybox:saved"]);
    assert.equal(save.code, 0, save.stderr);
    assert.equal(save.stdout, "");

    const load = await berth(`${dir}/fresh`, ["load", "-i", `${dir}/out.tar`]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout, "Loaded image: busybox:saved\n");
    const [info] = JSON.parse(
      (await berth(`${dir}/fresh`, ["image", "inspect", "busybox:saved"])).stdout,
    );
    assert.equal(info.Id, id);

    // Loading from stdin, the OCI format, and a load of what is already there.
    const oci = await berth(root, [
      "save",
      "--format",
      "oci",
      "-o",
      `${dir}/oci.tar`,
      "busybox:saved",
    ]);
    assert.equal(oci.code, 0, oci.stderr);
    const again = await berth(`${dir}/fresh`, ["load"], {
      stdin: Deno.readFileSync(`${dir}/oci.tar`),
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "Loaded image: busybox:saved\n");
    assert.equal((await berth(`${dir}/fresh`, ["images", "-q"])).stdout, `${id.slice(7, 19)}\n`);
  });
});

Deno.test("image prune removes dangling images and prune -a the rest, with reclaimed space", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const { tarball } = await importBusybox(root, dir, "keep");
    const dangling = await berth(root, ["import", "--change", "CMD true", tarball]);
    assert.equal(dangling.code, 0);
    const rows = (await berth(root, ["images"])).stdout;
    assert.match(rows, /<none>\s+<none>/);

    const prune = await berth(root, ["image", "prune", "-f"]);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(
      prune.stdout,
      new RegExp(
        `^Deleted Images:\ndeleted: ${dangling.stdout.trim()}\n\nTotal reclaimed space: 0B\n$`,
      ),
    );
    assert.equal((await berth(root, ["images", "-q"])).stdout.trim().split("\n").length, 1);

    const df = await berth(root, ["system", "df"]);
    assert.match(
      df.stdout,
      /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s+0\s+[\d.]+MB\s+[\d.]+MB \(100%\)\n/,
    );

    const all = await berth(root, ["image", "prune", "-a", "-f"]);
    assert.match(all.stdout, /untagged: keep:latest\ndeleted: sha256:[a-f0-9]{64}\n/);
    assert.match(all.stdout, /Total reclaimed space: [\d.]+MB\n$/);
    assert.equal((await berth(root, ["images", "-q"])).stdout, "");
  });
});

Deno.test("import reads a tarball from an http URL and from stdin", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = Deno.readFileSync(await makeRootfs(`${dir}/rootfs.tar.gz`));
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) =>
        new URL(req.url).pathname === "/rootfs.tar.gz"
          ? new Response(tarball, { headers: { "content-length": String(tarball.length) } })
          : new Response("no", { status: 404 }),
    );
    try {
      const url = `http://127.0.0.1:${server.addr.port}`;
      const fromUrl = await berth(root, ["import", `${url}/rootfs.tar.gz`, "fromurl"]);
      assert.equal(fromUrl.code, 0, fromUrl.stderr);
      const missing = await berth(root, ["import", `${url}/missing.tar`, "nope"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /HTTP 404/);
    } finally {
      await server.shutdown();
    }
    const fromStdin = await berth(root, ["import", "-", "fromstdin"], { stdin: tarball });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const [info] = JSON.parse((await berth(root, ["image", "inspect", "fromstdin"])).stdout);
    assert.equal(info.Comment, "Imported from -");
    assert.equal((await berth(root, ["images", "-q"])).stdout.trim().split("\n").length, 2);
    assert.equal(listDir(`${root}/layers`).length, 1, "both share one extracted layer");
  });
});

Deno.test("import draws a progress bar on a terminal and nothing when stderr is not one", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
    // script(1) gives the command a pseudo-terminal and copies what it draws to stdout.
    const cmd =
      `${Deno.execPath()} run -A --quiet ${REPO}main.ts --root ${root} import ${tarball} tty:1`;
    const tty = await run("script", ["-qefc", cmd, "/dev/null"]);
    assert.equal(tty.code, 0, tty.stderr);
    // deno-lint-ignore no-control-regex
    assert.match(tty.stdout, /\r\x1b\[KImporting \[=+>? *\]  [\d.]+[kM]B\/[\d.]+MB/);
    assert.match(tty.stdout, /sha256:[a-f0-9]{64}/);

    const piped = await berth(root, ["import", tarball, "pipe:1"]);
    assert.equal(piped.code, 0);
    assert.equal(piped.stderr, "");
  });
});
