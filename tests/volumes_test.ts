/**
 * The `volume` commands as a user runs them: create (the seed's
 * `volume create -d local NAME`), ls with filters and formats, inspect,
 * rm (missing, forced, in use) and prune.
 */
import assert from "node:assert/strict";
import { berth, listDir, withTempDir } from "./_helpers.ts";
import { type Env, withBusybox } from "./_containers.ts";

type B = Env["b"];

/** A temp root and `berth --root ...` on it. */
async function withRoot(fn: (b: B, root: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const b: B = (args, opts = {}) => berth(root, ["--run-root", `${dir}/run`, ...args], opts);
    await fn(b, root);
  });
}

/** One error line on stderr, exit 1, and the text Docker prints. */
function assertRefused(out: { code: number; stdout: string; stderr: string }, text: string) {
  assert.equal(out.code, 1, out.stderr);
  assert.equal(out.stdout, "");
  assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
  assert.ok(out.stderr.startsWith("Error: "), out.stderr);
  assert.ok(out.stderr.includes(text), out.stderr);
}

Deno.test("volume create -d local NAME, volume ls, volume inspect NAME (the seed's forms)", async () => {
  await withRoot(async (b, root) => {
    const created = await b(["volume", "create", "-d", "local", "my-vol"]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, "my-vol\n");
    const ls = await b(["volume", "ls"]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(ls.stdout.trim().split("\n").map((l) => l.split(/\s+/)), [
      ["DRIVER", "VOLUME", "NAME"],
      ["local", "my-vol"],
    ]);
    const inspect = await b(["volume", "inspect", "my-vol"]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const [v, ...rest] = JSON.parse(inspect.stdout);
    assert.equal(rest.length, 0);
    assert.deepEqual(Object.keys(v).sort(), [
      "CreatedAt",
      "Driver",
      "Labels",
      "Mountpoint",
      "Name",
      "Options",
      "Scope",
    ]);
    assert.equal(v.Name, "my-vol");
    assert.equal(v.Driver, "local");
    assert.equal(v.Scope, "local");
    assert.equal(v.Mountpoint, `${root}/volumes/my-vol/_data`);
    assert.deepEqual(v.Labels, {});
    assert.deepEqual(v.Options, {});
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(v.CreatedAt) - Date.now()) < 600_000);
    assert.ok(Deno.statSync(v.Mountpoint).isDirectory);
    assert.deepEqual(listDir(`${root}/volumes/my-vol`), ["_data", "volume.json"]);
    // Data in the Mountpoint is the volume's.
    Deno.writeTextFileSync(`${v.Mountpoint}/f`, "kept");
    const again = await b(["volume", "create", "my-vol"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(Deno.readTextFileSync(`${v.Mountpoint}/f`), "kept");

    const fmt = await b([
      "volume",
      "inspect",
      "-f",
      "{{.Name}} {{.Driver}} {{.Mountpoint}}",
      "my-vol",
    ]);
    assert.equal(fmt.stdout, `my-vol local ${v.Mountpoint}\n`);
    const missing = await b(["volume", "inspect", "my-vol", "nope"]);
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stdout).length, 1);
    assert.equal(missing.stderr, "Error: No such volume: nope\n");
  });
});

Deno.test("volume create without a name makes a random 64-hex name each time", async () => {
  await withRoot(async (b) => {
    const one = (await b(["volume", "create"])).stdout.trim();
    const two = (await b(["volume", "create"])).stdout.trim();
    assert.match(one, /^[0-9a-f]{64}$/);
    assert.match(two, /^[0-9a-f]{64}$/);
    assert.notEqual(one, two);
    assert.deepEqual(
      (await b(["volume", "ls", "-q"])).stdout.trim().split("\n"),
      [one, two].sort(),
    );
  });
});

Deno.test("bad names, options and drivers are refused with Docker's messages, nothing made", async () => {
  await withRoot(async (b, root) => {
    for (const name of ["a/b", "..", "-x", "a", "../../etc", ".hidden"]) {
      const out = await b(["volume", "create", "--", name]);
      assertRefused(
        out,
        `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`,
      );
    }
    assertRefused(
      await b(["volume", "create", "-o", "foo=1", "v1"]),
      `create v1: invalid option: "foo"`,
    );
    assertRefused(
      await b(["volume", "create", "-o", "type=tmpfs", "v1"]),
      `create v1: missing required option: "device"`,
    );
    assertRefused(
      await b(["volume", "create", "-o", "o=size=1m", "v1"]),
      `create v1: missing required option:`,
    );
    assertRefused(
      await b([
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=lots",
        "v1",
      ]),
      `create v1: invalid tmpfs size: "lots"`,
    );
    assertRefused(
      await b(["volume", "create", "-d", "nfs", "v1"]),
      `create v1: error looking up volume plugin nfs: plugin "nfs" not found`,
    );
    assertRefused(
      await b([
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        "o=bind",
        "-o",
        `device=${root}/nope`,
        "v1",
      ]),
      `create v1: device "${root}/nope": no such file or directory`,
    );
    assertRefused(
      await b([
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        "o=bind",
        "-o",
        "device=rel/dir",
        "v1",
      ]),
      `create v1: device "rel/dir" is not an absolute path`,
    );
    assertRefused(
      await b(["volume", "create", "-o", "type=ext4", "-o", "device=/dev/sda1", "v1"]),
      `create v1: volume type "ext4" is not supported`,
    );
    assert.equal((await b(["volume", "ls", "-q"])).stdout, "");
    assert.deepEqual(listDir(`${root}/volumes`), []);
    assert.deepEqual(listDir(`${root}/tmp`), []);
    // inspect/rm of a bad name is simply not found, never a path outside volumes/.
    const outside = await b(["volume", "inspect", "../tmp"]);
    assert.equal(outside.code, 1);
    assert.equal(outside.stderr, "Error: No such volume: ../tmp\n");
  });
});

Deno.test("tmpfs and bind volumes keep their options; a name again with other options conflicts", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/root`;
    const b: B = (args) => berth(root, ["--run-root", `${dir}/run`, ...args]);
    const create = (name: string, ...opts: string[]) =>
      b(["volume", "create", ...opts.flatMap((o) => ["-o", o]), name]);
    const tmpfs = ["type=tmpfs", "device=tmpfs"];
    const t = await create("tv", ...tmpfs, "o=size=64m");
    assert.equal(t.code, 0, t.stderr);
    Deno.mkdirSync(`${dir}/host`);
    const h = await create("hv", "type=none", "o=bind", `device=${dir}/host`);
    assert.equal(h.code, 0, h.stderr);
    const [tv, hv] = JSON.parse((await b(["volume", "inspect", "tv", "hv"])).stdout);
    assert.deepEqual(tv.Options, { type: "tmpfs", device: "tmpfs", o: "size=64m" });
    assert.deepEqual(hv.Options, { type: "none", o: "bind", device: `${dir}/host` });
    assertRefused(
      await create("tv", ...tmpfs, "o=size=1m"),
      "create tv: volume name must be unique",
    );
    // The same options again, or none, is the existing volume (Docker).
    assert.equal((await create("tv", ...tmpfs, "o=size=64m")).stdout, "tv\n");
    assert.equal((await create("tv")).stdout, "tv\n");
    // Removing a bind volume leaves the host directory and its files.
    Deno.writeTextFileSync(`${dir}/host/f`, "x");
    assert.equal((await b(["volume", "rm", "hv"])).code, 0);
    assert.equal(Deno.readTextFileSync(`${dir}/host/f`), "x");
  });
});

Deno.test("volume ls: -q, --filter name=|label=|dangling=|driver=, --format", async () => {
  await withRoot(async (b) => {
    for (
      const args of [
        ["--label", "app=web", "--label", "tier", "web-data"],
        ["--label", "app=db", "db-data"],
        ["cache"],
      ]
    ) {
      assert.equal((await b(["volume", "create", ...args])).code, 0);
    }
    const q = async (...filters: string[]) =>
      (await b(["volume", "ls", "-q", ...filters.flatMap((f) => ["--filter", f])])).stdout.trim()
        .split("\n").filter((l) => l !== "");
    assert.deepEqual(await q(), ["cache", "db-data", "web-data"]);
    assert.deepEqual(await q("name=data"), ["db-data", "web-data"]);
    assert.deepEqual(await q("name=^c"), ["cache"]);
    assert.deepEqual(await q("label=app"), ["db-data", "web-data"]);
    assert.deepEqual(await q("label=app=db"), ["db-data"]);
    assert.deepEqual(await q("label=tier", "name=data"), ["web-data"]);
    assert.deepEqual(await q("label=app=db", "label=app=web"), ["db-data", "web-data"]);
    assert.deepEqual(await q("dangling=true"), ["cache", "db-data", "web-data"]);
    assert.deepEqual(await q("dangling=false"), []);
    assert.deepEqual(await q("driver=local", "name=cache"), ["cache"]);
    const fmt = await b([
      "volume",
      "ls",
      "--format",
      "{{.Name}}|{{.Driver}}|{{.Labels}}",
      "-f",
      "name=web",
    ]);
    assert.equal(fmt.stdout, "web-data|local|app=web,tier=\n");
    const table = await b([
      "volume",
      "ls",
      "--format",
      "table {{.Name}}\t{{.Scope}}",
      "-f",
      "name=cache",
    ]);
    assert.deepEqual(table.stdout.trim().split("\n").map((l) => l.split(/\s+/)), [
      ["VOLUME", "NAME", "SCOPE"],
      ["cache", "local"],
    ]);
    const json = await b(["volume", "ls", "--format", "json", "-f", "name=cache"]);
    assert.equal(JSON.parse(json.stdout).Name, "cache");
    assertRefused(await b(["volume", "ls", "--filter", "colour=red"]), "Invalid filter 'colour'");
    assertRefused(
      await b(["volume", "ls", "--filter", "dangling=maybe"]),
      "Invalid filter 'dangling=maybe'",
    );
  });
});

Deno.test("volume rm: removes data; a missing one fails, or with -f passes silently", async () => {
  await withRoot(async (b, root) => {
    assert.equal((await b(["volume", "create", "gone"])).code, 0);
    Deno.writeTextFileSync(`${root}/volumes/gone/_data/f`, "x");
    const rm = await b(["volume", "rm", "gone"]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, "gone\n");
    assert.deepEqual(listDir(`${root}/volumes`), []);
    assert.deepEqual(listDir(`${root}/tmp`), []);
    const missing = await b(["volume", "rm", "gone"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "Error: No such volume: gone\n");
    // As docker: -f passes over it, printing its name as if removed.
    const forced = await b(["volume", "rm", "-f", "gone"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout + forced.stderr, "gone\n");
    // Several names: each one's error on its own line, the others still removed.
    assert.equal((await b(["volume", "create", "v2"])).code, 0);
    const several = await b(["volume", "rm", "nope", "v2"]);
    assert.equal(several.code, 1);
    assert.equal(several.stdout, "v2\n");
    assert.equal(several.stderr, "Error: No such volume: nope\n");
  });
});

/**
 * Makes a container that mounts `volume` (running or not, Docker counts it).
 * Part M's `-v` lands the Mounts field; until then, and so that this test
 * does not depend on it, the record gets its Mounts entry written here.
 */
async function containerUsing(env: Env, volume: string, anonymous = false): Promise<string> {
  const out = await env.b(["create", "busybox", "true"]);
  assert.equal(out.code, 0, out.stderr);
  const id = out.stdout.trim();
  const path = `${env.dir}/root/containers/${id}/container.json`;
  const record = JSON.parse(Deno.readTextFileSync(path));
  record.Mounts = [...(record.Mounts ?? []), {
    Type: "volume",
    Name: volume,
    Source: `${env.dir}/root/volumes/${volume}/_data`,
    Destination: "/data",
    Driver: "local",
    Mode: "z",
    RW: true,
    Propagation: "",
    ...(anonymous ? { Anonymous: true } : {}),
  }];
  Deno.writeTextFileSync(path, JSON.stringify(record, null, 2));
  return id;
}

Deno.test("volume rm refuses a volume in use by a container (not running), -f too, and keeps the data", async () => {
  await withBusybox(async (env) => {
    const { b, dir } = env;
    assert.equal((await b(["volume", "create", "busy"])).code, 0);
    Deno.writeTextFileSync(`${dir}/root/volumes/busy/_data/f`, "data");
    const id = await containerUsing(env, "busy");
    for (const args of [["busy"], ["-f", "busy"]]) {
      const out = await b(["volume", "rm", ...args]);
      assertRefused(out, `Error: remove busy: volume is in use - [${id}]`);
    }
    assert.equal(Deno.readTextFileSync(`${dir}/root/volumes/busy/_data/f`), "data");
    const dangling = await b(["volume", "ls", "-q", "--filter", "dangling=false"]);
    assert.equal(dangling.stdout, "busy\n");
    assert.equal((await b(["rm", id])).code, 0);
    const rm = await b(["volume", "rm", "busy"]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(listDir(`${dir}/root/volumes`), []);
  });
});

Deno.test("volume prune removes only unused volumes: anonymous ones, or with -a all", async () => {
  await withBusybox(async (env) => {
    const { b, dir } = env;
    const anon = (name: string) =>
      b(["volume", "create", "--label", "com.docker.volume.anonymous=", name]);
    for (const name of ["anon-free", "anon-used"]) assert.equal((await anon(name)).code, 0);
    for (const name of ["named-free", "named-used", "keep-me"]) {
      assert.equal((await b(["volume", "create", name])).code, 0);
    }
    assert.equal((await b(["volume", "create", "--label", "keep", "labelled"])).code, 0);
    Deno.writeTextFileSync(`${dir}/root/volumes/anon-free/_data/f`, "12345");
    await containerUsing(env, "anon-used", true);
    await containerUsing(env, "named-used");
    const names = async () => (await b(["volume", "ls", "-q"])).stdout.trim().split("\n");

    // Without -f and no terminal: the prompt's answer is no.
    const asked = await b(["volume", "prune"]);
    assert.equal(asked.code, 0);
    assert.ok(asked.stdout.includes("WARNING! This will remove anonymous local volumes"));
    assert.equal((await names()).length, 6);

    const pruned = await b(["volume", "prune", "-f"]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.equal(pruned.stdout, "Deleted Volumes:\nanon-free\n\nTotal reclaimed space: 5B\n");
    assert.deepEqual(await names(), [
      "anon-used",
      "keep-me",
      "labelled",
      "named-free",
      "named-used",
    ]);

    const filtered = await b(["volume", "prune", "-a", "-f", "--filter", "label!=keep"]);
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.equal(
      filtered.stdout,
      "Deleted Volumes:\nkeep-me\nnamed-free\n\nTotal reclaimed space: 0B\n",
    );
    assert.deepEqual(await names(), ["anon-used", "labelled", "named-used"]);

    const all = await b(["volume", "prune", "--all", "--force"]);
    assert.equal(all.stdout, "Deleted Volumes:\nlabelled\n\nTotal reclaimed space: 0B\n");
    assert.deepEqual(await names(), ["anon-used", "named-used"]);
    assertRefused(
      await b(["volume", "prune", "-f", "--filter", "name=x"]),
      "Invalid filter 'name'",
    );
  });
});
