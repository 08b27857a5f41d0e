/**
 * `commit`: a container's changes (added, changed, deleted files, a replaced
 * directory) become one new layer; the config, history and `save` output
 * show it as Docker does.
 */
import assert from "node:assert/strict";
import { type Env, withBusybox } from "./_containers.ts";
import { listDir, run } from "./_helpers.ts";

async function ok(env: Env, args: string[]): Promise<string> {
  const out = await env.b(args);
  assert.equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

async function inspect(env: Env, image: string): Promise<Record<string, unknown>> {
  return JSON.parse(await ok(env, ["image", "inspect", image]))[0];
}

/** Everything the store holds: blob and layer names, the index, tmp/. */
function storeState(env: Env): string[] {
  const root = `${env.dir}/root`;
  return [
    ...listDir(`${root}/blobs/sha256`),
    ...listDir(`${root}/layers`),
    Deno.readTextFileSync(`${root}/index.json`),
    ...listDir(`${root}/tmp`).map((n) => `tmp/${n}`),
  ];
}

const CHANGES = [
  "echo new > /added",
  "echo changed > /etc/group",
  "rm /etc/passwd",
  "mkdir -p /data/keep",
  "echo kept > /data/keep/file",
].join("; ");

Deno.test("commit stores added, changed and deleted files as one layer the new image runs with", async () => {
  await withBusybox(async (env) => {
    const before = await inspect(env, "busybox");
    const baseLayers = (before.RootFS as { Layers: string[] }).Layers;
    await ok(env, ["run", "--name", "c1", "busybox", "sh", "-c", CHANGES]);
    const id = (await ok(env, ["commit", "c1", "changed:v1"])).trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const after = await inspect(env, "changed:v1");
    assert.equal(after.Id, id);
    const layers = (after.RootFS as { Layers: string[] }).Layers;
    assert.deepEqual(layers.slice(0, -1), baseLayers);
    assert.equal(layers.length, baseLayers.length + 1);
    const show = await ok(env, [
      "run",
      "--rm",
      "changed:v1",
      "sh",
      "-c",
      "cat /added /etc/group /data/keep/file; ls /etc/passwd 2>&1 || echo gone",
    ]);
    assert.match(show, /^new\nchanged\nkept\n.*\ngone\n$/s);
    // The base image is as it was.
    assert.match(await ok(env, ["run", "--rm", "busybox", "ls", "/etc/passwd"]), /passwd/);
    // Mount points berth put in the upper dir are not part of the layer.
    assert.deepEqual(await ok(env, ["diff", "c1"]).then((d) => d.split("\n").sort()), [
      "",
      "A /added",
      "A /data",
      "A /data/keep",
      "A /data/keep/file",
      "C /etc",
      "C /etc/group",
      "D /etc/passwd",
    ]);
  });
});

Deno.test("commit of a replaced directory hides what the image had in it", async () => {
  await withBusybox(async (env) => {
    await ok(env, [
      "run",
      "--name",
      "base",
      "busybox",
      "sh",
      "-c",
      "mkdir -p /d/sub && echo old > /d/sub/f && echo o > /d/g",
    ]);
    await ok(env, ["commit", "base", "with-d"]);
    await ok(env, [
      "run",
      "--name",
      "c2",
      "with-d",
      "sh",
      "-c",
      "rm -rf /d && mkdir /d && echo n > /d/new",
    ]);
    await ok(env, ["commit", "c2", "replaced"]);
    assert.equal(await ok(env, ["run", "--rm", "replaced", "ls", "-A", "/d"]), "new\n");
    assert.equal(await ok(env, ["run", "--rm", "with-d", "cat", "/d/sub/f", "/d/g"]), "old\no\n");
  });
});

Deno.test("commit applies the container's config, -c changes, -m and -a, and history shows them", async () => {
  await withBusybox(async (env) => {
    await ok(env, [
      "run",
      "--name",
      "c3",
      "-e",
      "FOO=bar",
      "-w",
      "/tmp",
      "-u",
      "1000",
      "-l",
      "who=me",
      "busybox",
      "sh",
      "-c",
      "echo x > /tmp/x",
    ]);
    await ok(env, [
      "commit",
      "-m",
      "my message",
      "-a",
      "A. Uthor",
      "-c",
      'CMD ["cat", "x"]',
      "-c",
      "ENV ADDED=1",
      "c3",
      "configured",
    ]);
    const image = await inspect(env, "configured");
    const config = image.Config as Record<string, unknown>;
    assert.deepEqual(config.Cmd, ["cat", "x"]);
    assert.ok((config.Env as string[]).includes("FOO=bar"));
    assert.ok((config.Env as string[]).includes("ADDED=1"));
    assert.equal(config.WorkingDir, "/tmp");
    assert.equal(config.User, "1000");
    assert.deepEqual(config.Labels, { who: "me" });
    assert.equal(image.Author, "A. Uthor");
    const history = await ok(env, [
      "history",
      "--no-trunc",
      "--format",
      "{{.CreatedBy}}|{{.Comment}}",
      "configured",
    ]);
    assert.equal(history.split("\n")[0], "sh -c echo x > /tmp/x|my message");
    assert.equal(await ok(env, ["run", "--rm", "configured"]), "x\n");
  });
});

Deno.test("commit of an unchanged container adds an empty history entry, no layer", async () => {
  await withBusybox(async (env) => {
    await ok(env, ["run", "--name", "c4", "busybox", "true"]);
    await ok(env, ["commit", "c4", "same"]);
    const base = (await inspect(env, "busybox")).RootFS;
    assert.deepEqual((await inspect(env, "same")).RootFS, base);
    const history = await ok(env, ["history", "--format", "{{.CreatedBy}}|{{.Size}}", "same"]);
    assert.equal(history.split("\n")[0], "true|0B");
  });
});

Deno.test("commit pauses a running container while packing and leaves it running", async () => {
  await withBusybox(async (env) => {
    await ok(env, [
      "run",
      "-d",
      "--name",
      "live",
      "busybox",
      "sh",
      "-c",
      "echo up > /up; sleep 1000",
    ]);
    for (let i = 0; i < 100; i++) {
      const out = await env.b(["exec", "live", "cat", "/up"]);
      if (out.stdout === "up\n") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await ok(env, ["commit", "live", "live-image"]);
    assert.equal(await ok(env, ["inspect", "-f", "{{.State.Status}}", "live"]), "running\n");
    await ok(env, ["commit", "--pause=false", "live", "live-image2"]);
    await ok(env, ["pause", "live"]);
    await ok(env, ["commit", "live", "live-image3"]);
    assert.equal(await ok(env, ["inspect", "-f", "{{.State.Status}}", "live"]), "paused\n");
    await ok(env, ["unpause", "live"]);
    for (const image of ["live-image", "live-image2", "live-image3"]) {
      assert.equal(await ok(env, ["run", "--rm", image, "cat", "/up"]), "up\n");
    }
  });
});

Deno.test("commit refuses bad input with Docker's message and stores nothing", async () => {
  await withBusybox(async (env) => {
    await ok(env, ["run", "--name", "c5", "busybox", "sh", "-c", "echo x > /x"]);
    const before = storeState(env);
    const cases: [string[], RegExp][] = [
      [["commit", "nosuch"], /^Error: No such container: nosuch\n$/],
      [["commit", "-c", "BOGUS x", "c5"], /BOGUS/],
      [["commit", "-c", "RUN echo", "c5"], /RUN/],
      [["commit", "c5", "Bad:Name"], /Invalid reference format/],
      [
        ["commit", "c5", `x@sha256:${"a".repeat(64)}`],
        /refusing to create a tag with a digest reference/,
      ],
    ];
    for (const [args, message] of cases) {
      const out = await env.b(args);
      assert.equal(out.code, 1, args.join(" "));
      assert.match(out.stderr, message);
      assert.equal(out.stderr.split("\n").length, 2, `one line: ${out.stderr}`);
    }
    assert.deepEqual(storeState(env), before);
  });
});

Deno.test("an image made by commit is saved with its extra layer, whiteouts included", async () => {
  await withBusybox(async (env) => {
    await ok(env, [
      "run",
      "--name",
      "c6",
      "busybox",
      "sh",
      "-c",
      "rm /etc/passwd; echo s > /saved",
    ]);
    await ok(env, ["commit", "c6", "tosave"]);
    await ok(env, ["save", "-o", `${env.dir}/out.tar`, "tosave"]);
    const out = `${env.dir}/out`;
    Deno.mkdirSync(out);
    assert.equal((await run("tar", ["-xf", `${env.dir}/out.tar`, "-C", out])).code, 0);
    const [manifest] = JSON.parse(Deno.readTextFileSync(`${out}/manifest.json`));
    assert.equal(manifest.Layers.length, 2);
    const listing = await run("tar", ["-tf", `${out}/${manifest.Layers[1]}`]);
    assert.deepEqual(listing.stdout.split("\n").filter((l) => l !== "").sort(), [
      "etc/",
      "etc/.wh.passwd",
      "saved",
    ]);
    // And it loads back (its new layer was collected with the image) and runs.
    await ok(env, ["rmi", "-f", "tosave"]);
    await ok(env, ["load", "-i", `${env.dir}/out.tar`]);
    assert.equal(await ok(env, ["run", "--rm", "tosave", "cat", "/saved"]), "s\n");
  });
});
