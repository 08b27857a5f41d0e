/**
 * Mounts on `run` and `create` with real containers: `-v`, `--mount`,
 * `--tmpfs`, `--volumes-from`, the image's VOLUMEs, copy-up, `rm -v`,
 * inspect's Mounts, mount targets kept inside the rootfs, and bad input.
 */
import assert from "node:assert/strict";
import { type Env, withBusybox } from "./_containers.ts";
import { listDir } from "./_helpers.ts";

const ok = async (b: Env["b"], args: string[]) => {
  const out = await b(args);
  assert.equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
};

const volumeNames = (root: string) => {
  try {
    return [...Deno.readDirSync(`${root}/volumes`)].map((e) => e.name).sort();
  } catch {
    return [];
  }
};

Deno.test("the seed's bind forms: --mount type=bind and -v DIR, visible both ways; :ro refuses writes", () =>
  withBusybox(async ({ dir, b }) => {
    const host = `${dir}/webapp`;
    Deno.mkdirSync(host);
    Deno.writeTextFileSync(`${host}/index.html`, "from the host\n");
    const seen = await ok(b, [
      "run",
      "--rm",
      "--mount",
      `type=bind,source=${host},destination=/opt/webapp`,
      "busybox",
      "sh",
      "-c",
      "cat /opt/webapp/index.html; echo from the container > /opt/webapp/out",
    ]);
    assert.equal(seen, "from the host\n");
    assert.equal(Deno.readTextFileSync(`${host}/out`), "from the container\n");
    assert.equal(
      await ok(b, [
        "run",
        "--rm",
        "-v",
        `${host}:/opt/webapp`,
        "busybox",
        "cat",
        "/opt/webapp/out",
      ]),
      "from the container\n",
    );
    const ro = await b([
      "run",
      "--rm",
      "-v",
      `${host}:/opt/webapp:ro`,
      "busybox",
      "sh",
      "-c",
      "cat /opt/webapp/index.html && echo x > /opt/webapp/denied",
    ]);
    assert.notEqual(ro.code, 0);
    assert.equal(ro.stdout, "from the host\n");
    assert.match(ro.stderr, /Read-only file system/);
    assert.throws(() => Deno.statSync(`${host}/denied`));
    // -v makes a missing host directory; --mount type=bind refuses it.
    await ok(b, ["run", "--rm", "-v", `${dir}/made/here:/m`, "busybox", "true"]);
    assert.ok(Deno.statSync(`${dir}/made/here`).isDirectory);
    const missing = await b([
      "run",
      "--rm",
      "--mount",
      `type=bind,src=${dir}/nope,dst=/m`,
      "busybox",
      "true",
    ]);
    assert.equal(missing.code, 125);
    assert.equal(
      missing.stderr.trim(),
      `Error: invalid mount config for type "bind": bind source path does not exist: ${dir}/nope`,
    );
  }));

Deno.test("a named volume's data survives rm, is shared at once between containers, and shows in inspect", () =>
  withBusybox(async ({ dir, b }) => {
    const root = `${dir}/root`;
    await ok(b, [
      "run",
      "--name",
      "writer",
      "-v",
      "data:/data",
      "busybox",
      "sh",
      "-c",
      "echo kept > /data/f",
    ]);
    const mounts = JSON.parse(await ok(b, ["inspect", "-f", "{{json .Mounts}}", "writer"]));
    assert.deepEqual(mounts, [{
      Type: "volume",
      Name: "data",
      Source: `${root}/volumes/data/_data`,
      Destination: "/data",
      Driver: "local",
      Mode: "z",
      RW: true,
      Propagation: "",
    }]);
    await ok(b, ["rm", "-v", "writer"]);
    assert.deepEqual(volumeNames(root), ["data"], "rm -v keeps a named volume");
    assert.equal(Deno.readTextFileSync(`${root}/volumes/data/_data/f`), "kept\n");
    assert.equal(await ok(b, ["run", "--rm", "-v", "data:/d", "busybox", "cat", "/d/f"]), "kept\n");
    // Two containers on one volume: each waits for the other's file.
    await ok(b, [
      "run",
      "-d",
      "--name",
      "peer",
      "--mount",
      "type=volume,source=data,target=/s",
      "busybox",
      "sh",
      "-c",
      "while [ ! -f /s/ping ]; do sleep 0.05; done; echo pong > /s/pong; sleep 60",
    ]);
    const pong = await ok(b, [
      "run",
      "--rm",
      "-v",
      "data:/s",
      "busybox",
      "sh",
      "-c",
      "echo ping > /s/ping; while [ ! -f /s/pong ]; do sleep 0.05; done; cat /s/pong",
    ]);
    assert.equal(pong, "pong\n");
    assert.equal(Deno.readTextFileSync(`${root}/volumes/data/_data/pong`), "pong\n");
    await ok(b, ["rm", "-f", "peer"]);
  }));

Deno.test("copy-up fills a fresh volume with the image's files, not a used one; nocopy and rm -v", () =>
  withBusybox(async ({ dir, b }) => {
    const root = `${dir}/root`;
    const etc = await ok(b, ["run", "--rm", "-v", "fresh:/etc", "busybox", "cat", "/etc/passwd"]);
    assert.match(etc, /^root:/);
    const data = `${root}/volumes/fresh/_data`;
    assert.equal(Deno.statSync(`${data}/passwd`).mode! & 0o777, 0o644);
    assert.equal(Deno.statSync(`${data}/passwd`).uid, 0);
    await ok(b, ["run", "--rm", "-v", "used:/x", "busybox", "touch", "/x/mine"]);
    const listed = await ok(b, ["run", "--rm", "-v", "used:/etc", "busybox", "ls", "/etc"]);
    assert.ok(listed.split("\n").includes("mine"));
    assert.ok(!listed.split("\n").includes("passwd"), "no copy-up into a used volume");
    const nocopy = await ok(b, [
      "run",
      "--rm",
      "--mount",
      "type=volume,src=nc,dst=/etc,volume-nocopy",
      "busybox",
      "ls",
      "/etc",
    ]);
    assert.ok(!nocopy.split("\n").includes("passwd"));
    // An anonymous volume: copy-up too, and removed by rm -v only.
    await ok(b, ["create", "--name", "anon", "-v", "/etc", "busybox", "cat", "/etc/passwd"]);
    const [point] = JSON.parse(await ok(b, ["inspect", "-f", "{{json .Mounts}}", "anon"]));
    assert.match(point.Name, /^[0-9a-f]{64}$/);
    assert.equal(point.Mode, "", "dockerd shows an anonymous -v volume's mode as empty");
    assert.ok(Deno.statSync(`${root}/volumes/${point.Name}/_data/passwd`).isFile);
    await ok(b, ["rm", "anon"]);
    assert.ok(volumeNames(root).includes(point.Name), "rm without -v keeps it");
    await ok(b, ["create", "--name", "anon2", "-v", "/etc", "busybox", "true"]);
    const [second] = JSON.parse(await ok(b, ["inspect", "-f", "{{json .Mounts}}", "anon2"]));
    await ok(b, ["rm", "-v", "anon2"]);
    assert.ok(!volumeNames(root).includes(second.Name), "rm -v removes it");
  }));

Deno.test("tmpfs mounts are empty, in memory, and gone with the container; --volumes-from shares", () =>
  withBusybox(async ({ b }) => {
    const out = await ok(b, [
      "run",
      "--rm",
      "--tmpfs",
      "/t:size=1m",
      "--mount",
      "type=tmpfs,dst=/u,tmpfs-size=2m,tmpfs-mode=1770",
      "busybox",
      "sh",
      "-c",
      "ls -A /t /u; echo x > /t/f; grep -E ' /(t|u) ' /proc/mounts; stat -c %a /u",
    ]);
    assert.match(out, /^tmpfs \/t tmpfs .*size=1024k/m);
    assert.match(out, /^tmpfs \/u tmpfs .*size=2048k/m);
    assert.match(out, /^1770$/m);
    assert.doesNotMatch(out, /^f$/m);
    await ok(b, ["create", "--name", "src", "-v", "shared:/s", "-v", "/anon", "busybox", "true"]);
    const from = await ok(b, [
      "run",
      "--rm",
      "--volumes-from",
      "src:ro",
      "busybox",
      "sh",
      "-c",
      "grep -E ' /(s|anon) ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1",
    ]);
    assert.deepEqual(from.trim().split("\n").sort(), ["/anon ro", "/s ro"]);
  }));

Deno.test("an image's VOLUME and symlinks never mount outside the rootfs", () =>
  withBusybox(async ({ dir, b }) => {
    // An image whose /data -> /etc and /up -> ../../.. (built from busybox's rootfs).
    const tree = `${dir}/tree`;
    Deno.mkdirSync(tree);
    const { code } = await new Deno.Command("sh", {
      args: [
        "-c",
        `cd ${tree} && tar xzf ../rootfs.tar.gz && ln -s /etc data && ln -s ../../.. up && tar czf ../evil.tar.gz .`,
      ],
    }).output();
    assert.equal(code, 0);
    await ok(b, ["import", "--change", 'VOLUME ["/vol"]', `${dir}/evil.tar.gz`, "evil"]);
    const hostEtc = [...Deno.readDirSync("/etc")].map((e) => e.name).sort();
    const marker = `berth-mounts-test-${crypto.randomUUID()}`;
    await ok(b, [
      "run",
      "--rm",
      "-v",
      "v1:/data",
      "evil",
      "sh",
      "-c",
      `echo x > /data/${marker} && test -f /etc/${marker}`,
    ]);
    assert.throws(() => Deno.statSync(`/etc/${marker}`), "the host's /etc is untouched");
    assert.ok(Deno.statSync(`${dir}/root/volumes/v1/_data/${marker}`).isFile);
    // A link to the root itself: refused, as a mount over the whole root would hide /proc and /dev.
    const up = await b([
      "run",
      "--rm",
      "-v",
      "v2:/up",
      "evil",
      "sh",
      "-c",
      `echo x > /up/${marker}`,
    ]);
    assert.equal(up.code, 125);
    assert.throws(() => Deno.statSync(`/${marker}`));
    assert.deepEqual([...Deno.readDirSync(`${dir}/root/volumes/v2/_data`)], []);
    assert.deepEqual([...Deno.readDirSync("/etc")].map((e) => e.name).sort(), hostEtc);
    // The image's VOLUME became an anonymous volume.
    await ok(b, ["create", "--name", "vc", "evil", "true"]);
    const [point] = JSON.parse(await ok(b, ["inspect", "-f", "{{json .Mounts}}", "vc"]));
    assert.equal(point.Destination, "/vol");
    assert.equal(point.Type, "volume");
    assert.equal(point.Mode, "");
    await ok(b, ["rm", "-v", "vc"]);
  }));

Deno.test("bad mount input: one line, docker's exit code, nothing made", () =>
  withBusybox(async ({ dir, b }) => {
    const root = `${dir}/root`;
    Deno.writeTextFileSync(`${dir}/file`, "f\n");
    const cases: [string[], string][] = [
      [
        ["-v", "rel/dir:/x"],
        `create rel/dir: "rel/dir" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      ],
      [
        ["-v", "/tmp:rel"],
        `invalid volume specification: '/tmp:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`,
      ],
      [["-v", "/tmp:/x:bogus"], "invalid mode: bogus"],
      [["-v", "a:b:c:d"], "invalid volume specification: 'a:b:c:d'"],
      [
        ["--mount", "type=volume,src=ok,dst=/x,nope=1"],
        `invalid argument "type=volume,src=ok,dst=/x,nope=1" for "--mount" flag: unexpected key 'nope' in 'nope=1'`,
      ],
      [
        ["--mount", "type=volume,src=ok"],
        `invalid argument "type=volume,src=ok" for "--mount" flag: target is required`,
      ],
      [
        ["--mount", "type=tmpfs,dst=/t,tmpfs-size=lots"],
        `invalid argument "type=tmpfs,dst=/t,tmpfs-size=lots" for "--mount" flag: invalid value for tmpfs-size: lots`,
      ],
      [["--tmpfs", "/t:size=lots"], `invalid tmpfs option "size=lots": invalid size: 'lots'`],
      [
        ["-v", "ok:/x", "-v", "a/b:/y"],
        `create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      ],
      [["-v", "ok:/x", "-v", "ok2:/x"], "Duplicate mount point: /x"],
      [
        ["-v", "ok:/x", "-v", `${dir}/file:/etc`],
        `error mounting "${dir}/file" to rootfs at "/etc": not a directory`,
      ],
      [["--volumes-from", "ghost"], "No such container: ghost"],
      [
        ["--mount", "type=tmpfs,target=/proc"],
        `error mounting "tmpfs" to rootfs at "/proc": it cannot be mounted because it is not of type proc`,
      ],
    ];
    for (const [flags, message] of cases) {
      for (const command of ["run", "create"]) {
        const out = await b([command, ...flags, "busybox", "true"]);
        // docker's create: 125 for a flag it cannot parse, 1 for what the engine refuses.
        const code = command === "run" || message.startsWith("invalid argument") ? 125 : 1;
        assert.equal(out.code, code, `${command} ${flags.join(" ")}: ${out.stderr}`);
        assert.equal(out.stderr, `Error: ${message}\n`);
        assert.deepEqual(volumeNames(root), [], `${flags.join(" ")} leaves no volume`);
        assert.equal((await ok(b, ["ps", "-aq"])).trim(), "", "and no container");
      }
    }
  }));

Deno.test("run --rm takes its anonymous volumes with it, foreground and detached; named ones stay", () =>
  withBusybox(async ({ dir, b }) => {
    const root = `${dir}/root`;
    await ok(b, ["run", "--rm", "-v", "/anon", "-v", "kept:/k", "busybox", "touch", "/anon/f"]);
    assert.deepEqual(volumeNames(root), ["kept"], "the foreground run's anonymous volume is gone");
    const id = await ok(b, ["run", "-d", "--rm", "-v", "/anon", "busybox", "true"]);
    for (let i = 0; i < 200 && listDir(`${root}/containers`).includes(id.trim()); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(!listDir(`${root}/containers`).includes(id.trim()), "the detached --rm is removed");
    assert.deepEqual(volumeNames(root), ["kept"], "and its anonymous volume with it");
    // Shared through --volumes-from: it stays while another container mounts it.
    await ok(b, ["create", "--name", "holder", "-v", "/shared", "busybox", "true"]);
    await ok(b, ["run", "--rm", "--volumes-from", "holder", "busybox", "true"]);
    assert.equal(volumeNames(root).length, 2, "the holder's volume is still there");
    await ok(b, ["rm", "-v", "holder"]);
    assert.deepEqual(volumeNames(root), ["kept"]);
  }));

Deno.test("inspect shows the mount flags in HostConfig as Docker does: Binds, Mounts, Tmpfs, VolumesFrom", () =>
  withBusybox(async ({ dir, b }) => {
    const host = `${dir}/host`;
    Deno.mkdirSync(host);
    await ok(b, [
      "create",
      "--name",
      "src",
      "-v",
      "/anon",
      "-v",
      "named:/n",
      "-v",
      `${host}:/h:ro`,
      "--mount",
      `type=bind,source=${host},target=/h2`,
      "--mount",
      "type=tmpfs,target=/tt,tmpfs-size=1m,tmpfs-mode=1770",
      "--tmpfs",
      "/t:size=64k",
      "busybox",
      "true",
    ]);
    const hc = JSON.parse(await ok(b, ["inspect", "-f", "{{json .HostConfig}}", "src"]));
    assert.deepEqual(hc.Binds, ["named:/n", `${host}:/h:ro`]);
    assert.equal(hc.VolumesFrom, null);
    assert.deepEqual(hc.Mounts, [
      { Type: "bind", Source: host, Target: "/h2" },
      { Type: "tmpfs", Target: "/tt", TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } },
    ]);
    assert.deepEqual(hc.Tmpfs, { "/t": "size=64k" });
    const volumes = JSON.parse(await ok(b, ["inspect", "-f", "{{json .Config.Volumes}}", "src"]));
    assert.deepEqual(volumes, { "/anon": {} }, "an anonymous -v path is a Config volume");
    await ok(b, ["create", "--name", "user", "--volumes-from", "src:ro", "busybox", "true"]);
    const user = JSON.parse(await ok(b, ["inspect", "-f", "{{json .HostConfig}}", "user"]));
    assert.deepEqual(user.VolumesFrom, ["src:ro"]);
    assert.equal(user.Binds, null);
    assert.ok(!("Mounts" in user) && !("Tmpfs" in user), "absent without --mount or --tmpfs");
  }));

Deno.test("a tmpfs volume is one tmpfs its containers share, filled by copy-up, unmounted when unused", () =>
  withBusybox(async ({ dir, b }) => {
    const root = `${dir}/root`;
    const data = `${root}/volumes/mem/_data`;
    const mounted = () =>
      Deno.readTextFileSync("/proc/self/mountinfo").split("\n").some((l) =>
        l.split(" ")[4] === data
      );
    await ok(b, [
      "volume",
      "create",
      "-o",
      "type=tmpfs",
      "-o",
      "device=tmpfs",
      "-o",
      "o=size=4m",
      "mem",
    ]);
    assert.ok(!mounted(), "nothing is mounted before a container uses it");
    await ok(b, ["run", "-d", "--name", "one", "-v", "mem:/etc", "busybox", "sleep", "60"]);
    assert.ok(mounted(), "the host holds the volume's tmpfs");
    const fs = await ok(b, [
      "exec",
      "one",
      "sh",
      "-c",
      "grep ' /etc ' /proc/mounts | cut -d' ' -f3",
    ]);
    assert.equal(fs.trim(), "tmpfs");
    // Copy-up brought the image's /etc in; a second container sees the first one's writes at once.
    assert.ok(Deno.statSync(`${data}/passwd`).isFile);
    await ok(b, ["exec", "one", "sh", "-c", "echo shared > /etc/note"]);
    assert.equal(
      await ok(b, ["run", "--rm", "-v", "mem:/m", "busybox", "cat", "/m/note"]),
      "shared\n",
    );
    assert.ok(mounted(), "still mounted while 'one' uses it");
    await ok(b, ["rm", "-f", "one"]);
    assert.ok(!mounted(), "unmounted once no container uses it");
    assert.deepEqual([...Deno.readDirSync(data)], [], "nothing of it was on disk");
    await ok(b, ["volume", "rm", "mem"]);
  }));
