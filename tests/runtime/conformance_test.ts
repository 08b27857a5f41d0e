/**
 * What the OCI runtime-tools validation programs check and no other runtime
 * test covers, written against the runtime-spec through `berth runtime run`:
 * masked and read-only paths, the default symlinks, filesystems and devices,
 * the process's user, umask, cwd, env and OOM score, and hooks (order, the
 * state on stdin, a failing hook). The suite itself is not packaged for
 * Debian (its package ships only the library), so CI cannot build it;
 * scripts/oci_validation.sh runs it from a runtime-tools checkout.
 */
import assert from "node:assert/strict";
import type { Spec } from "../../lib/runtime/mod.ts";
import {
  assertNoLeftovers,
  berthRuntime,
  cleanup,
  makeBundle,
  mountsUnder,
  runBundle,
  SKIP_REASON,
  type TestBundle,
  uniqueId,
} from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;

/**
 * Runs `script` in a fresh bundle after `prepare` and checks nothing is left;
 * returns the run with the bundle's `files` (relative paths) as they were after it.
 */
async function run(
  script: string,
  edit: (spec: Spec, b: TestBundle) => void,
  options: { prepare?: (b: TestBundle) => void; files?: string[] } = {},
) {
  const b = makeBundle();
  const id = uniqueId("conf");
  try {
    options.prepare?.(b);
    b.write({ args: ["sh", "-c", script], hostname: "" }, (spec) => edit(spec, b));
    const r = await runBundle(b, id);
    assertNoLeftovers(b, id, r.pid);
    const files = Object.fromEntries(
      (options.files ?? []).map((path) => [path, readOr(`${b.dir}/${path}`)]),
    );
    return { ...r, bundle: b.dir, id, files };
  } finally {
    await cleanup(b, id);
    b.close();
  }
}

function readOr(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

Deno.test({
  name:
    "runtime run: masked paths read as empty, read-only paths refuse writes (linux_masked_paths, " +
    "linux_readonly_paths)",
  ignore,
}, async () => {
  const r = await run(
    [
      "cat /m-file; ls -A /m-dir | wc -l; cat /m-dir/sub/f",
      "echo x > /r-file && echo wrote-file; touch /r-dir/new && echo wrote-dir",
      "touch /r-dir/sub/new && echo wrote-sub; cat /r-file /r-dir/sub/f",
    ].join("; "),
    (spec) => {
      spec.linux!.maskedPaths = ["/m-dir", "/m-file"];
      spec.linux!.readonlyPaths = ["/r-dir", "/r-file"];
    },
    {
      prepare: (b) => {
        for (const top of ["m", "r"]) {
          Deno.mkdirSync(`${b.dir}/rootfs/${top}-dir/sub`, { recursive: true });
          Deno.writeTextFileSync(`${b.dir}/rootfs/${top}-dir/sub/f`, "secret\n");
          Deno.writeTextFileSync(`${b.dir}/rootfs/${top}-file`, "immutable\n");
        }
      },
      files: ["rootfs/r-file", "rootfs/m-file"],
    },
  );
  assert.equal(r.stdout, "0\nimmutable\nsecret\n", r.stderr);
  assert.match(r.stderr, /'\/m-dir\/sub\/f': No such file or directory/);
  assert.match(r.stderr, /can't create \/r-file: Read-only file system/);
  assert.match(r.stderr, /\/r-dir\/new: Read-only file system/);
  assert.match(r.stderr, /\/r-dir\/sub\/new: Read-only file system/);
  assert.deepEqual(r.files, { "rootfs/r-file": "immutable\n", "rootfs/m-file": "immutable\n" });
});

for (const [field, kind] of [["maskedPaths", "masked"], ["readonlyPaths", "read-only"]] as const) {
  Deno.test({
    name: `runtime run: a relative or looping ${kind} path is refused at create, nothing left`,
    ignore,
  }, async () => {
    for (const path of ["rel-path", "/loop"]) {
      const r = await run("echo ran > /ran", (spec) => {
        spec.linux![field] = ["/proc/kcore", path];
      }, {
        prepare: (b) => Deno.symlinkSync("../loop", `${b.dir}/rootfs/loop`),
        files: ["rootfs/ran"],
      });
      assert.equal(r.code, 125, `${path}: ${r.stdout}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^Error: /);
      assert.equal(r.files["rootfs/ran"], undefined, `${path}: the process ran`);
    }
  });
}

Deno.test({
  name:
    "runtime run: the default symlinks, filesystems and devices are there (runtimetest's defaults)",
  ignore,
}, async () => {
  const r = await run(
    [
      "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done",
      "for d in null zero full random urandom tty ptmx; do stat -L -c '%n %F %t:%T' /dev/$d; done",
      "for m in /proc /sys /dev/pts /dev/shm; do awk -v m=$m '$5 == m {print m, $(NF-2)}' " +
      "/proc/self/mountinfo | tail -n 1; done",
    ].join("; "),
    () => {},
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      "/proc/self/fd",
      "/proc/self/fd/0",
      "/proc/self/fd/1",
      "/proc/self/fd/2",
      "pts/ptmx",
      "/dev/null character special file 1:3",
      "/dev/zero character special file 1:5",
      "/dev/full character special file 1:7",
      "/dev/random character special file 1:8",
      "/dev/urandom character special file 1:9",
      "/dev/tty character special file 5:0",
      "/dev/ptmx character special file 5:2",
      "/proc proc",
      "/sys sysfs",
      "/dev/pts devpts",
      "/dev/shm tmpfs",
      "",
    ].join("\n"),
  );
});

Deno.test({
  name:
    "runtime run: user, additional groups, umask, cwd, env and OOM score apply (process_user, " +
    "process, process_oom_score_adj)",
  ignore,
}, async () => {
  const r = await run(
    "id -u; id -g; id -G; umask; pwd; echo $testa $testb; cat /proc/self/oom_score_adj",
    (spec) => {
      spec.process!.user = { uid: 10, gid: 10, additionalGids: [5], umask: 0o002 };
      spec.process!.cwd = "/test";
      spec.process!.env!.push("testa=valuea", "testb=123");
      spec.process!.oomScoreAdj = 500;
    },
    { prepare: (b) => Deno.mkdirSync(`${b.dir}/rootfs/test`) },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "10\n10\n10 5\n0002\n/test\nvaluea 123\n500\n");
});

/** A hook running the rootfs's busybox sh on the host. */
const hook = (b: TestBundle, script: string) => ({
  path: `${b.dir}/rootfs/bin/sh`,
  args: ["sh", "-c", script],
});

Deno.test({
  name: "runtime run: hooks run in order with the container's state on stdin (hooks, hooks_stdin)",
  ignore,
}, async () => {
  const states = ["prestart1", "poststart", "poststop1"];
  // The process outlives the poststart hook, which must see it running (a process that ended
  // first, on a loaded machine, left the hook a stopped state with pid 0).
  const process = "echo process >> /order; until [ -e /poststarted ]; do sleep 0.01; done";
  const r = await run(process, (spec, b) => {
    const log = (name: string, then = "") =>
      hook(b, `cat > ${b.dir}/${name}.json; echo ${name} >> ${b.dir}/rootfs/order${then}`);
    spec.annotations = { "org.example.key": "value" };
    spec.hooks = {
      prestart: [log("prestart1"), log("prestart2")],
      poststart: [log("poststart", `; touch ${b.dir}/rootfs/poststarted`)],
      poststop: [log("poststop1"), log("poststop2")],
    };
  }, { files: ["rootfs/order", ...states.map((name) => `${name}.json`)] });
  assert.equal(r.code, 0, r.stderr);
  const order = r.files["rootfs/order"]!.trim().split("\n");
  // poststart and the process race (both follow start); the rest is ordered.
  assert.deepEqual(order.slice(0, 2), ["prestart1", "prestart2"]);
  assert.deepEqual(order.slice(2, 4).sort(), ["poststart", "process"]);
  assert.deepEqual(order.slice(4), ["poststop1", "poststop2"]);
  for (const name of states) {
    const state = JSON.parse(r.files[`${name}.json`] ?? "null");
    assert.equal(state?.id, r.id, name);
    assert.equal(state?.bundle, r.bundle, name);
    assert.deepEqual(state?.annotations, { "org.example.key": "value" }, name);
    if (name !== "poststop1") assert.equal(state?.pid, r.pid, name);
  }
  assert.equal(JSON.parse(r.files["poststart.json"]!).status, "running");
  assert.equal(JSON.parse(r.files["poststop1.json"]!).status, "stopped");
});

Deno.test({
  name: "runtime run: a failing prestart hook stops the container before its process runs; a " +
    "failing poststart or poststop hook only warns (prestart_fail, poststart_fail, poststop_fail)",
  ignore,
}, async () => {
  const pre = await run("echo ran > /ran", (spec, b) => {
    spec.hooks = { prestart: [hook(b, "exit 3")] };
  }, { files: ["rootfs/ran"] });
  assert.equal(pre.code, 125, pre.stderr);
  assert.match(pre.stderr, /^Error: Hook ".*\/bin\/sh" failed: exit status 3\n$/);
  assert.equal(pre.files["rootfs/ran"], undefined, "the process ran");

  const post = await run("echo ran > /ran", (spec, b) => {
    const ok = (name: string) => hook(b, `echo ${name} >> ${b.dir}/rootfs/called`);
    spec.hooks = {
      poststart: [hook(b, "exit 3"), ok("poststart")],
      poststop: [hook(b, "exit 4"), ok("poststop")],
    };
  }, { files: ["rootfs/ran", "rootfs/called"] });
  assert.equal(post.code, 0, post.stderr);
  assert.deepEqual(post.files, { "rootfs/ran": "ran\n", "rootfs/called": "poststart\npoststop\n" });
  const warnings = post.stderr.trim().split("\n");
  assert.equal(warnings.length, 2, post.stderr);
  assert.match(
    warnings[0]!,
    /^Warning: poststart hook 0: Hook ".*\/bin\/sh" failed: exit status 3$/,
  );
  assert.match(
    warnings[1]!,
    /^Warning: poststop hook 0: Hook ".*\/bin\/sh" failed: exit status 4$/,
  );
});

Deno.test({
  name: "runtime run: linux.rootfsPropagation sets the propagation of the container's / " +
    "(linux_rootfs_propagation), and an unknown value is refused",
  ignore,
}, async () => {
  // /proc/self/mountinfo's optional fields for "/": shared:N, master:N, unbindable, or none.
  const script = `awk '$5 == "/" { t = ""; for (i = 7; $i != "-"; i++) t = t " " $i; print t }' ` +
    "/proc/self/mountinfo | sed 's/:[0-9]*//g'";
  const tags = async (mode?: string) => {
    const r = await run(script, (spec) => {
      if (mode !== undefined) spec.linux!.rootfsPropagation = mode;
    });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(await tags(), "", "private without rootfsPropagation");
  assert.equal(await tags("rprivate"), "");
  assert.equal(await tags("shared"), "shared");
  assert.equal(await tags("rshared"), "shared");
  assert.equal(await tags("unbindable"), "unbindable");
  // A slave of the host's root: the rootfs's parent is made private first, as runc does, so
  // the container's / has no master and reads as private; what matters is that create applies it.
  assert.equal(await tags("rslave"), "");
  const bad = await run("true", (spec) => {
    spec.linux!.rootfsPropagation = "sideways";
  });
  assert.equal(bad.code, 125);
  assert.equal(
    bad.stderr,
    `Error: Invalid config.json: "linux.rootfsPropagation" must be one of shared, rshared, slave, ` +
      `rslave, private, rprivate, unbindable, runbindable, not "sideways"\n`,
  );
});

/** The optional fields of "/" in this process's mount table (its propagation). */
const hostRootPropagation = () =>
  Deno.readTextFileSync("/proc/self/mountinfo").split("\n").find((l) => l.split(" ")[4] === "/")
    ?.split(" - ")[0]?.split(" ").slice(6).join(" ");

Deno.test({
  name: "runtime run: without a mount namespace the container shares the host's, in its rootfs, " +
    "and leaves no mount (linux_ns_itype)",
  ignore,
}, async () => {
  const before = hostRootPropagation();
  const r = await run(
    [
      "readlink /proc/self/ns/mnt",
      "head -n 1 /etc/passwd",
      "echo written > /written",
      "awk '$5 == \"/proc\" {print $5, $(NF-2)}' /proc/self/mountinfo | tail -n 1",
      "cat /m 2>&1; echo x > /r-dir/x 2>&1 || echo read-only",
    ].join("; "),
    (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "mount");
      spec.linux!.maskedPaths = ["/m"];
      spec.linux!.readonlyPaths = ["/r-dir"];
    },
    {
      prepare: (b) => {
        Deno.writeTextFileSync(`${b.dir}/rootfs/m`, "secret\n");
        Deno.mkdirSync(`${b.dir}/rootfs/r-dir`);
      },
      files: ["rootfs/written"],
    },
  );
  assert.equal(r.code, 0, r.stderr);
  const [ns, passwd, proc, ...rest] = r.stdout.trim().split("\n");
  assert.equal(ns, Deno.readLinkSync("/proc/self/ns/mnt"), "the host's mount namespace");
  assert.equal(passwd, "root:x:0:0:root:/root:/bin/sh", "the rootfs's /etc/passwd");
  assert.equal(proc, "/proc proc");
  assert.match(rest.join("\n"), /read-only|Read-only/);
  assert.doesNotMatch(rest.join("\n"), /secret/);
  assert.equal(r.files["rootfs/written"], "written\n");
  // assertNoLeftovers (in run) found no mount under the bundle; the host's / is as it was.
  assert.equal(hostRootPropagation(), before);

  // A create that fails after the rootfs is mounted (a looping masked path) leaves none either.
  const failed = await run("true", (spec) => {
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "mount");
    spec.linux!.maskedPaths = ["/loop"];
  }, { prepare: (b) => Deno.symlinkSync("../loop", `${b.dir}/rootfs/loop`) });
  assert.equal(failed.code, 125, failed.stderr);
  assert.match(failed.stderr, /^Error: Cannot mask "\/loop"/);
});

Deno.test({
  name: "runtime exec: a process run in a container without a mount namespace sees its rootfs",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("conf");
  const root = ["--root", b.stateRoot];
  try {
    b.write({ args: ["sleep", "60"] }, (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "mount");
    });
    Deno.writeTextFileSync(`${b.dir}/rootfs/marker`, "the container's\n");
    const created = await berthRuntime(["create", ...root, "--bundle", b.dir, id], {
      detached: true,
    });
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await berthRuntime(["start", ...root, id])).code, 0);
    const r = await berthRuntime(["exec", ...root, id, "sh", "-c", "cat /marker; pwd"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "the container's\n/\n");
    const deleted = await berthRuntime(["delete", "--force", ...root, id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(mountsUnder(b.dir), []);
    assertNoLeftovers(b, id);
  } finally {
    await cleanup(b, id);
    b.close();
  }
});
