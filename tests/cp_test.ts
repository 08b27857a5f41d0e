/**
 * `berth cp` as a user runs it: both directions, Docker's placement rules,
 * tar streams on stdin/stdout, running and stopped containers, and container
 * symlinks that must never lead to the host.
 */
import assert from "node:assert/strict";
import { type Env, withBusybox } from "./_containers.ts";
import { berthArgs, listDir } from "./_helpers.ts";
import { lgetxattr } from "../ffi/fs.ts";

/** Runs berth like `b`, with stdout kept as bytes. */
async function raw(dir: string, args: string[], stdin?: Uint8Array) {
  const child = new Deno.Command(Deno.execPath(), {
    args: berthArgs(`${dir}/root`, ["--run-root", `${dir}/run`, ...args]),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

/** Runs a host program with `stdin`; its stdout. */
async function tool(cmd: string, args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const out = await child.output();
  assert.equal(out.code, 0, `${cmd} ${args.join(" ")}`);
  return out.stdout;
}

/** Runs `berth cp` and asserts it succeeds and leaves no mount of its own behind. */
async function cp({ dir, b }: Env, ...args: string[]): Promise<void> {
  const out = await b(["cp", ...args]);
  assert.equal(out.stderr, "", `cp ${args.join(" ")}`);
  assert.equal(out.code, 0);
  assertNoCopyMount(dir);
}

function assertNoCopyMount(dir: string): void {
  assert.ok(!Deno.readTextFileSync("/proc/self/mountinfo").includes(`${dir}/root/tmp`));
  assert.deepEqual(listDir(`${dir}/root/tmp`).filter((n) => n.startsWith("cp-")), []);
}

/** Fails like Docker: exit 1 and the one line `Error: <message>`. */
async function cpFails({ dir, b }: Env, message: string, ...args: string[]): Promise<void> {
  const out = await b(["cp", ...args]);
  assert.equal(out.code, 1, out.stderr);
  assert.equal(out.stderr, `Error: ${message}\n`);
  assertNoCopyMount(dir);
}

const text = (path: string) => Deno.readTextFileSync(path);
const exec = async (env: Env, script: string) =>
  (await env.b(["exec", "web", "sh", "-c", script])).stdout;

/** A host tree: `src/a.txt`, `src/sub/b.txt`. */
function hostTree(dir: string): void {
  Deno.mkdirSync(`${dir}/src/sub`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/src/a.txt`, "A");
  Deno.writeTextFileSync(`${dir}/src/sub/b.txt`, "B");
  Deno.chownSync(`${dir}/src/a.txt`, 1000, 1000);
}

Deno.test("cp copies files and directories both ways into a stopped container, and diff shows them", async () => {
  await withBusybox(async (env) => {
    const { dir, b } = env;
    hostTree(dir);
    assert.equal(
      (await b([
        "run",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /data/x; echo hi > /data/x/f",
      ])).code,
      0,
    );
    // Host -> container: a file into an existing dir, to a new name, a dir, a dir's contents.
    await cp(env, `${dir}/src/a.txt`, "web:/tmp");
    await cp(env, `${dir}/src/a.txt`, "web:/tmp/renamed");
    await cp(env, `${dir}/src`, "web:/tmp");
    await cp(env, `${dir}/src`, "web:/newdir");
    await cp(env, `${dir}/src/.`, "web:/data");
    await cp(env, "-a", `${dir}/src/a.txt`, "web:/kept");
    const diff = (await b(["diff", "web"])).stdout.split("\n");
    for (
      const line of [
        "A /tmp/a.txt",
        "A /tmp/renamed",
        "A /tmp/src/sub/b.txt",
        "A /newdir/sub/b.txt",
        "A /data/a.txt",
        "A /data/sub",
        "A /kept",
      ]
    ) assert.ok(diff.includes(line), `${line} in\n${diff.join("\n")}`);
    const upper = `${dir}/root/containers/${
      (await b(["inspect", "-f", "{{.Id}}", "web"])).stdout.trim()
    }/upper`;
    assert.equal(text(`${upper}/tmp/renamed`), "A");
    assert.equal(Deno.statSync(`${upper}/tmp/a.txt`).uid, 0, "owned by the container's root");
    assert.equal(Deno.statSync(`${upper}/kept`).uid, 1000, "-a keeps the owner");
    // Container -> host.
    await cp(env, "web:/data/x", `${dir}/out-x`);
    assert.equal(text(`${dir}/out-x/f`), "hi\n");
    Deno.mkdirSync(`${dir}/into`);
    await cp(env, "web:/data", `${dir}/into`);
    assert.deepEqual(listDir(`${dir}/into/data`), ["a.txt", "sub", "x"]);
    await cp(env, "web:/data/.", `${dir}/into`);
    assert.deepEqual(listDir(`${dir}/into`), ["a.txt", "data", "sub", "x"]);
    await cp(env, "web:/data/x/f", `${dir}/into/f2`);
    assert.equal(text(`${dir}/into/f2`), "hi\n");
    await cp(env, "web:/data/x/f", `${dir}/into/`);
    assert.equal(text(`${dir}/into/f`), "hi\n");
    // A container never started has its overlay mounted just the same.
    assert.equal((await b(["create", "--name", "fresh", "busybox"])).code, 0);
    await cp(env, `${dir}/src/a.txt`, "fresh:/");
    assert.equal((await b(["diff", "fresh"])).stdout, "A /a.txt\n");
    // Docker's errors for what cannot fit.
    await cpFails(env, `lstat ${dir}/nope: no such file or directory`, `${dir}/nope`, "web:/");
    await cpFails(
      env,
      `Cannot copy a directory to "/etc/passwd": it is a file`,
      `${dir}/src`,
      "web:/etc/passwd",
    );
    await cpFails(env, "Could not find the file /nope in container web", "web:/nope", dir);
    await cpFails(env, "No such container: nope", "nope:/etc", dir);
    await cpFails(env, "must specify at least one container source", `${dir}/src`, dir);
    await cpFails(env, "copying between containers is not supported", "web:/a", "web:/b");
    await cpFails(
      env,
      "Could not find the file /nope in container web",
      `${dir}/src`,
      "web:/nope/x",
    );
    await cpFails(
      env,
      'Cannot copy to "/missing/": the destination directory must exist',
      `${dir}/src/a.txt`,
      "web:/missing/",
    );
  });
});

Deno.test("cp works on a running container, and streams tars on stdout and stdin", async () => {
  await withBusybox(async (env) => {
    const { dir, b } = env;
    hostTree(dir);
    assert.equal((await b(["run", "-d", "--name", "web", "busybox", "sleep", "60"])).code, 0);
    await cp(env, `${dir}/src`, "web:/tmp");
    await cp(env, `${dir}/src/a.txt`, "web:/tmp/renamed");
    assert.equal(await exec(env, "cat /tmp/src/a.txt /tmp/src/sub/b.txt /tmp/renamed"), "ABA");
    assert.ok((await b(["diff", "web"])).stdout.includes("A /tmp/src/sub/b.txt"));
    await cp(env, "web:/tmp/src/.", `${dir}/back`);
    assert.deepEqual(listDir(`${dir}/back`), ["a.txt", "sub"]);
    assert.equal(Deno.statSync(`${dir}/back/a.txt`).uid, 0, "owned by the caller");
    // A tar on stdout, named after the source's base name.
    const out = await raw(dir, ["cp", "web:/etc/passwd", "-"]);
    assert.equal(out.code, 0, out.stderr);
    const listing = new TextDecoder().decode(await tool("tar", ["-t"], out.stdout));
    assert.equal(listing, "passwd\n");
    const dirTar = await raw(dir, ["cp", "web:/tmp/src", "-"]);
    const names = new TextDecoder().decode(await tool("tar", ["-t"], dirTar.stdout));
    assert.deepEqual(names.trim().split("\n").sort(), [
      "src/",
      "src/a.txt",
      "src/sub/",
      "src/sub/b.txt",
    ]);
    // A tar on stdin goes into an existing directory.
    const tar = await tool("tar", ["-C", `${dir}/src`, "-c", "sub"]);
    const put = await raw(dir, ["cp", "-", "web:/root"], tar);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(await exec(env, "cat /root/sub/b.txt"), "B");
    const bad = await raw(dir, ["cp", "-", "web:/etc/passwd"], tar);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not a directory/);
  });
});

Deno.test("cp never follows a container's symlink to the host, running or stopped", async () => {
  await withBusybox(async (env) => {
    const { dir, b } = env;
    const host = `${dir}/hostdir`;
    Deno.mkdirSync(host);
    Deno.writeTextFileSync(`${dir}/secret`, "SECRET");
    Deno.writeTextFileSync(`${dir}/payload`, "P");
    const tag = `berth-cp-escape-${crypto.randomUUID()}`;
    const script = [
      "ln -s / /evil",
      "ln -s ../../.. /evil2",
      `ln -s ${host} /evil3`,
      `ln -s ${dir}/secret /link`,
      "mkdir /d",
      "ln -s / /d/up",
      "touch /ready",
    ].join("; ");
    // Where a followed link would land: the host's /, or above /proc/PID/root or the mount point.
    const sentinels = ["/", dir, `${dir}/root`, `${dir}/root/containers`, host].map((d) =>
      `${d}/${tag}`.replace("//", "/")
    );
    const check = async (state: string) => {
      await cp(env, `${dir}/payload`, `web:/evil/${tag}`);
      await cp(env, `${dir}/payload`, `web:/evil2/${tag}`);
      await cpFails(
        env,
        "Could not find the file /evil3 in container web",
        `${dir}/payload`,
        `web:/evil3/${tag}`,
      );
      const put = await raw(
        dir,
        ["cp", "-", "web:/evil3"],
        await tool("tar", ["-C", dir, "-c", "payload"]),
      );
      assert.equal(put.code, 1);
      for (const path of [...sentinels, `${host}/payload`]) {
        assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound, `nothing at ${path}`);
      }
      // Copied out, a symlink is the link itself; -L resolves it inside the container.
      await cp(env, "web:/link", `${dir}/link-${state}`);
      assert.equal(Deno.readLinkSync(`${dir}/link-${state}`), `${dir}/secret`);
      await cpFails(
        env,
        "Could not find the file /link in container web",
        "-L",
        "web:/link",
        `${dir}/x`,
      );
      await cp(env, "-L", "web:/evil/etc/passwd", `${dir}/passwd-${state}`);
      assert.equal(text(`${dir}/passwd-${state}`).split("\n").length, 3, "the container's passwd");
      // A directory copied out keeps its links as links, not what they point to.
      await cp(env, "web:/d", `${dir}/d-${state}`);
      assert.deepEqual(listDir(`${dir}/d-${state}`), ["up"]);
      assert.equal(Deno.readLinkSync(`${dir}/d-${state}/up`), "/");
    };
    const run = await b([
      "run",
      "-d",
      "--name",
      "web",
      "busybox",
      "sh",
      "-c",
      `${script}; sleep 60`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    for (let i = 0; i < 100 && (await exec(env, "ls /ready")) === ""; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await check("running");
    assert.equal(await exec(env, `cat /${tag}`), "P", "the copy landed inside the container");
    assert.equal((await b(["stop", "-t", "1", "web"])).code, 0);
    await check("stopped");
  });
});

/** The container's `/etc/passwd`, read with `cp ... -` (works running or stopped). */
async function containerFile(dir: string, name: string, path: string): Promise<string> {
  const out = await raw(dir, ["cp", `${name}:${path}`, "-"]);
  assert.equal(out.code, 0, out.stderr);
  return new TextDecoder().decode(await tool("tar", ["-xO"], out.stdout));
}

/** A test (`[ -p PATH ]`, ...) run in a running container; true when it holds. */
async function holds({ b }: Env, name: string, test: string): Promise<boolean> {
  return (await b(["exec", name, "sh", "-c", `${test} && echo yes`])).stdout === "yes\n";
}

Deno.test("cp copies .wh.* files as plain files both ways: no whiteout, no opaque dir, nothing deleted", async () => {
  await withBusybox(async (env) => {
    const { dir, b } = env;
    const made = await b([
      "run",
      "--name",
      "old",
      "busybox",
      "sh",
      "-c",
      "mkdir /d; echo V > /d/.wh.victim; echo O > /d/.wh..wh..opq; echo M > /d/.wh..wh.plnk",
    ]);
    assert.equal(made.code, 0, made.stderr);
    // Out of the container: the host directory keeps what the names would "delete".
    const host = `${dir}/H`;
    Deno.mkdirSync(`${host}/victim/sub`, { recursive: true });
    Deno.writeTextFileSync(`${host}/victim/keep`, "K");
    await cp(env, "old:/d/.", `${host}/`);
    assert.equal(text(`${host}/victim/keep`), "K");
    assert.ok(Deno.lstatSync(`${host}/victim/sub`).isDirectory);
    assert.equal(text(`${host}/.wh.victim`), "V\n");
    assert.equal(text(`${host}/.wh..wh..opq`), "O\n");
    assert.equal(text(`${host}/.wh..wh.plnk`), "M\n");
    assert.equal(lgetxattr(host, "trusted.overlay.opaque"), undefined, "no opaque mark on H");
    // Into the container, stopped (through its overlay) and running (through /proc/PID/root).
    Deno.mkdirSync(`${dir}/in`);
    Deno.writeTextFileSync(`${dir}/in/.wh.passwd`, "P");
    Deno.writeTextFileSync(`${dir}/in/.wh..wh..opq`, "Q");
    const passwd = await containerFile(dir, "old", "/etc/passwd");
    assert.match(passwd, /^root:/);
    await cp(env, `${dir}/in/.`, "old:/etc/");
    assert.equal(await containerFile(dir, "old", "/etc/passwd"), passwd);
    assert.match(
      await containerFile(dir, "old", "/etc/group"),
      /^root:/,
      "/etc is not made opaque",
    );
    assert.equal(await containerFile(dir, "old", "/etc/.wh.passwd"), "P");
    assert.equal(await containerFile(dir, "old", "/etc/.wh..wh..opq"), "Q");
    const run = await b(["run", "-d", "--name", "web", "busybox", "sleep", "60"]);
    assert.equal(run.code, 0, run.stderr);
    await cp(env, `${dir}/in/.`, "web:/etc/");
    assert.equal(await exec(env, "cat /etc/passwd"), passwd);
    assert.equal(
      await exec(env, "cat /etc/.wh.passwd /etc/.wh..wh..opq; ls /etc/group"),
      "PQ/etc/group\n",
    );
  });
});

Deno.test("cp refuses a destination that is a device, a fifo or a link to one, and leaves it as it was", async () => {
  await withBusybox(async (env) => {
    const { dir, b } = env;
    const run = await b([
      "run",
      "-d",
      "--name",
      "web",
      "busybox",
      "sh",
      "-c",
      "mknod /cdev c 1 3; mkfifo /ff; ln -s /cdev /lnk; touch /ready; sleep 60",
    ]);
    assert.equal(run.code, 0, run.stderr);
    for (let i = 0; i < 100 && !(await holds(env, "web", "[ -e /ready ]")); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // On the host: nodes of our own in the temp dir, never the real /dev.
    const nodes = `${dir}/nodes`;
    Deno.mkdirSync(nodes);
    assert.equal((await tool("mknod", [`${nodes}/null`, "c", "1", "3"])).length, 0);
    assert.equal((await tool("mkfifo", [`${nodes}/fifo`])).length, 0);
    Deno.symlinkSync(`${nodes}/null`, `${nodes}/stdout`);
    const before = (path: string) => {
      const info = Deno.lstatSync(path);
      return { dev: info.isCharDevice, fifo: info.isFifo, link: info.isSymlink, rdev: info.rdev };
    };
    const kept = Object.fromEntries(
      ["null", "fifo", "stdout"].map((n) => [n, before(`${nodes}/${n}`)]),
    );
    const hostCases: [string, string][] = [["null", "a device"], ["fifo", "a fifo"], [
      "stdout",
      "a device",
    ]];
    for (const [name, got] of hostCases) {
      await cpFails(
        env,
        `Invalid output path: "${nodes}/${name}" must be a directory or a regular file: got ${got}`,
        "web:/etc/passwd",
        `${nodes}/${name}`,
      );
      assert.deepEqual(before(`${nodes}/${name}`), kept[name], `${name} is left as it was`);
    }
    assert.equal(Deno.readLinkSync(`${nodes}/stdout`), `${nodes}/null`);
    // In the container, running and stopped.
    Deno.writeTextFileSync(`${dir}/f`, "F");
    const check = async () => {
      for (const [path, got] of [["/cdev", "a device"], ["/ff", "a fifo"], ["/lnk", "a device"]]) {
        await cpFails(
          env,
          `Destination "web:${path}" must be a directory or a regular file: got ${got}`,
          `${dir}/f`,
          `web:${path}`,
        );
      }
    };
    await check();
    assert.ok(await holds(env, "web", "[ -c /cdev ] && [ -p /ff ] && [ -L /lnk ] && [ -c /lnk ]"));
    assert.equal((await b(["stop", "-t", "1", "web"])).code, 0);
    await check();
    assert.equal((await b(["start", "web"])).code, 0);
    assert.ok(await holds(env, "web", "[ -c /cdev ] && [ -p /ff ] && [ -L /lnk ] && [ -c /lnk ]"));
    // A link to a regular file is followed, as Docker does: the link stays, its target gets the copy.
    Deno.writeTextFileSync(`${nodes}/target`, "old");
    Deno.symlinkSync(`${nodes}/target`, `${nodes}/to-file`);
    await cp(env, "web:/etc/passwd", `${nodes}/to-file`);
    assert.equal(Deno.readLinkSync(`${nodes}/to-file`), `${nodes}/target`);
    assert.match(text(`${nodes}/target`), /^root:/);
  });
});

Deno.test("cp refuses to put a file over a directory or a directory over a file, both ways", async () => {
  await withBusybox(async (env) => {
    const { dir, b } = env;
    const script = "mkdir -p /x/f /x/sub; echo k > /x/f/keep; echo n > /x/name; echo s > /x/sub/s";
    const made = await b([
      "run",
      "-d",
      "--name",
      "web",
      "busybox",
      "sh",
      "-c",
      `${script}; sleep 60`,
    ]);
    assert.equal(made.code, 0, made.stderr);
    for (let i = 0; i < 100 && !(await holds(env, "web", "[ -e /x/sub/s ]")); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const d = `${dir}/d`;
    Deno.mkdirSync(`${d}/name`, { recursive: true });
    Deno.writeTextFileSync(`${d}/name/keep`, "x");
    Deno.writeTextFileSync(`${d}/sub`, "S");
    Deno.mkdirSync(`${dir}/h/name`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/h/name/inner`, "I");
    Deno.writeTextFileSync(`${dir}/h/f`, "F");
    const nameTar = await tool("tar", ["-C", `${dir}/h`, "-c", "name"]);
    const check = async () => {
      // Out of the container.
      await cpFails(
        env,
        `Cannot overwrite directory "${d}/name" with non-directory "${d}"`,
        "web:/x/name",
        d,
      );
      await cpFails(
        env,
        `Cannot overwrite non-directory "${d}/sub" with directory "${d}"`,
        "web:/x/sub",
        d,
      );
      assert.deepEqual(listDir(d), ["name", "sub"]);
      assert.deepEqual(listDir(`${d}/name`), ["keep"]);
      assert.equal(text(`${d}/name/keep`), "x");
      assert.equal(text(`${d}/sub`), "S");
      // Into the container, from a host path and from a tar on stdin.
      await cpFails(
        env,
        'Cannot overwrite directory "/x/f" with non-directory "/x"',
        `${dir}/h/f`,
        "web:/x",
      );
      await cpFails(
        env,
        'Cannot overwrite non-directory "/x/name" with directory "/x"',
        `${dir}/h/name`,
        "web:/x/",
      );
      const put = await raw(dir, ["cp", "-", "web:/x"], nameTar);
      assert.equal(put.code, 1);
      assert.equal(
        put.stderr,
        'Error: Cannot overwrite non-directory "/x/name" with directory "/x"\n',
      );
      assert.equal(await containerFile(dir, "web", "/x/name"), "n\n");
      assert.equal(await containerFile(dir, "web", "/x/f/keep"), "k\n");
      const listing = await raw(dir, ["cp", "web:/x", "-"]);
      const names = new TextDecoder().decode(await tool("tar", ["-t"], listing.stdout));
      assert.deepEqual(names.trim().split("\n").sort(), [
        "x/",
        "x/f/",
        "x/f/keep",
        "x/name",
        "x/sub/",
        "x/sub/s",
      ]);
    };
    await check();
    assert.equal((await b(["stop", "-t", "1", "web"])).code, 0);
    await check();
  });
});

Deno.test("cp into and out of a running container freezes it only for the copy; one the user paused stays paused", async () => {
  await withBusybox(async (env) => {
    const { dir, b } = env;
    const run = await b(["run", "-d", "--name", "frz", "busybox", "sleep", "600"]);
    assert.equal(run.code, 0, run.stderr);
    const state = async () =>
      (await b(["inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "frz"])).stdout.trim();
    try {
      Deno.writeTextFileSync(`${dir}/in.txt`, "in\n");
      await cp(env, `${dir}/in.txt`, "frz:/tmp/in.txt");
      await cp(env, "frz:/tmp/in.txt", `${dir}/out.txt`);
      assert.equal(Deno.readTextFileSync(`${dir}/out.txt`), "in\n");
      assert.equal(await state(), "running false", "thawed after the copy");
      const cat = await b(["exec", "frz", "cat", "/tmp/in.txt"]);
      assert.equal(cat.stdout, "in\n", "the container runs on");

      assert.equal((await b(["pause", "frz"])).code, 0);
      Deno.writeTextFileSync(`${dir}/in2.txt`, "in2\n");
      await cp(env, `${dir}/in2.txt`, "frz:/tmp/in2.txt");
      await cp(env, "frz:/tmp/in2.txt", `${dir}/out2.txt`);
      assert.equal(Deno.readTextFileSync(`${dir}/out2.txt`), "in2\n");
      assert.equal(await state(), "paused true", "a paused container stays paused");
      assert.equal((await b(["unpause", "frz"])).code, 0);
    } finally {
      await b(["rm", "-f", "frz"]);
    }
  });
});
