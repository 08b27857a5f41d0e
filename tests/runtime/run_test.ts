/**
 * `berth runtime run` on a busybox bundle: isolation, Docker's security
 * defaults and exit codes. Runs as root (CI does).
 */
import assert from "node:assert/strict";
import { OVERLAY_ANNOTATION, seccompFromDockerProfile, type Spec } from "../../lib/runtime/mod.ts";
import {
  assertNoLeftovers,
  cleanup,
  makeBundle,
  mountsUnder,
  runBundle,
  runScript,
  SKIP_REASON,
  type TestBundle,
  uniqueId,
} from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;
// deno-lint-ignore no-console
if (ignore) console.log(`runtime tests skipped: ${SKIP_REASON}`);

/** Runs `sh -c script` in a fresh container and checks that nothing is left. */
const sh = (b: TestBundle, script: string, edit?: (spec: Spec) => void) =>
  runScript(b, script, edit, "run");

Deno.test(
  { name: "runtime run: the container is isolated and has Docker's defaults", ignore },
  async (t) => {
    const b = makeBundle();
    const sentinel = `/tmp/berth-sentinel-${crypto.randomUUID()}`;
    Deno.writeTextFileSync(sentinel, "host secret");
    try {
      await t.step("$$ is 1", async () => {
        const r = await sh(b, "echo $$");
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "1\n");
      });
      await t.step("hostname is the spec's", async () => {
        const r = await sh(b, "hostname");
        assert.equal(r.stdout, "ctr\n");
      });
      await t.step("ps shows only the container's processes", async () => {
        const r = await sh(b, "sleep 30 & sleep 0.2; ps -o pid,args; kill $!");
        const lines = r.stdout.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/));
        assert.equal(lines.length, 3, r.stdout);
        assert.equal(lines[0]?.[0], "1", r.stdout);
        assert.ok(lines.some((l) => l.slice(-2).join(" ") === "sleep 30"), r.stdout);
        assert.ok(lines.every((l) => Number(l[0]) < 20), r.stdout);
      });
      await t.step("a host file is not reachable", async () => {
        const r = await sh(b, `cat ${sentinel} || echo unreachable; ls /tmp`);
        assert.equal(r.stdout, "unreachable\n");
      });
      await t.step("mount fails without CAP_SYS_ADMIN", async () => {
        const r = await sh(b, "mount -t tmpfs x /mnt");
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /permission denied/i);
      });
      await t.step(
        "the devices cgroup denies a host disk even to a node made with CAP_MKNOD",
        async () => {
          const dev = Deno.statSync("/").dev;
          // glibc's gnu_dev_major/minor for the root filesystem's device.
          const major = ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
          const minor = (dev & 0xff) | ((dev >> 12) & ~0xff);
          const r = await sh(
            b,
            `mknod /tmp/disk b ${major} ${minor} && echo made; head -c 16 /tmp/disk; echo x > /dev/null && echo null-ok`,
          );
          assert.match(r.stdout, /^made\nnull-ok\n$/);
          assert.match(r.stderr, /Operation not permitted/);
        },
      );
      await t.step("/proc/kcore is masked", async () => {
        const r = await sh(b, "cat /proc/kcore | wc -c");
        assert.equal(r.stdout.trim(), "0");
      });
      await t.step("/proc/sys is read-only", async () => {
        const r = await sh(b, "echo 1 > /proc/sys/kernel/domainname && echo wrote");
        assert.notEqual(r.code, 0);
        assert.doesNotMatch(r.stdout, /wrote/);
      });
      await t.step("the capability sets are Docker's 14 defaults", async () => {
        const r = await sh(b, "grep -E '^Cap(Bnd|Eff|Prm)' /proc/self/status");
        assert.deepEqual(r.stdout.trim().split("\n").map((l) => l.split(/\s+/)[1]), [
          "00000000a80425fb",
          "00000000a80425fb",
          "00000000a80425fb",
        ]);
      });
      await t.step("no signal is ignored or blocked after exec", async () => {
        const id = uniqueId("sig");
        b.write({ args: ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"] });
        const r = await runBundle(b, id).finally(() => cleanup(b, id));
        assert.match(r.stdout, /SigBlk:\s+0{16}\nSigIgn:\s+0{16}/);
      });
      await t.step("only 0, 1 and 2 are open", async () => {
        const r = await sh(b, "ls /proc/self/fd");
        assert.deepEqual(r.stdout.trim().split(/\s+/).sort(), ["0", "1", "2", "3"]);
      });
      await t.step("user, groups and noNewPrivileges apply", async () => {
        const r = await sh(b, "id; grep -E '^(NoNewPrivs|CapEff)' /proc/self/status", (s) => {
          s.process.user = { uid: 65534, gid: 65534, additionalGids: [10] };
          s.process.noNewPrivileges = true;
        });
        assert.match(r.stdout, /uid=65534\S* gid=65534\S* groups=10\b/);
        assert.match(r.stdout, /NoNewPrivs:\s+1/);
        assert.match(r.stdout, /CapEff:\s+0{16}/, "a non-root user has no effective capabilities");
      });
      await t.step("root.readonly makes / read-only", async () => {
        const r = await sh(b, "touch /x 2>&1; touch /tmp/x 2>&1", (s) => s.root.readonly = true);
        assert.match(r.stdout, /Read-only file system/);
      });
    } finally {
      Deno.removeSync(sentinel);
      b.close();
    }
  },
);

Deno.test(
  { name: "runtime run: an overlay rootfs shows no host path and leaves no mount", ignore },
  async () => {
    const b = makeBundle();
    try {
      for (const d of ["lower", "upper", "work", "merged"]) Deno.mkdirSync(`${b.dir}/${d}`);
      Deno.writeTextFileSync(`${b.dir}/lower/hello`, "from lower\n");
      const overlay = JSON.stringify({
        lowerdir: [`${b.dir}/lower`, `${b.dir}/rootfs`],
        upperdir: `${b.dir}/upper`,
        workdir: `${b.dir}/work`,
      });
      const r = await sh(b, "cat /hello; echo new > /created; cat /proc/self/mountinfo", (s) => {
        s.root.path = "merged";
        s.annotations = { [OVERLAY_ANNOTATION]: overlay };
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^from lower\n/);
      // Fields 4 and 5 (root within the filesystem, mount point); overlay's own
      // options list its layer directories, as under Docker.
      const mountinfo = r.stdout.split("\n").slice(1).filter((l) => l !== "");
      for (const line of mountinfo) {
        const [, , , root, point] = line.split(" ");
        assert.ok(!root!.startsWith("/tmp") && !point!.startsWith("/tmp"), line);
      }
      assert.equal(Deno.readTextFileSync(`${b.dir}/upper/created`), "new\n");
      assert.deepEqual(
        [...Deno.readDirSync(`${b.dir}/merged`)],
        [],
        "overlay left mounted on the host",
      );
    } finally {
      b.close();
    }
  },
);

Deno.test({ name: "runtime run: exit codes are Docker's", ignore }, async (t) => {
  const b = makeBundle();
  const run = async (args: string[]) => {
    const id = uniqueId("exit");
    b.write({ args });
    try {
      const r = await runBundle(b, id);
      assertNoLeftovers(b, id, r.pid);
      return r;
    } finally {
      await cleanup(b, id);
    }
  };
  try {
    await t.step("0", async () => assert.equal((await run(["true"])).code, 0));
    await t.step("42", async () => assert.equal((await run(["sh", "-c", "exit 42"])).code, 42));
    await t.step("127 for a missing command", async () => {
      const r = await run(["nope"]);
      assert.equal(r.code, 127);
      assert.equal(r.stderr, 'Error: exec: "nope": executable file not found in $PATH\n');
    });
    await t.step("127 for a missing path", async () => {
      const r = await run(["/bin/nope"]);
      assert.equal(r.code, 127);
      assert.match(r.stderr, /exec: "\/bin\/nope": stat \/bin\/nope: no such file or directory/);
    });
    await t.step("126 for a file that is not executable", async () => {
      const r = await run(["/etc/noexec"]);
      assert.equal(r.code, 126);
      assert.match(r.stderr, /exec: "\/etc\/noexec": permission denied/);
    });
    await t.step("126 for a directory", async () => {
      const r = await run(["/etc"]);
      assert.equal(r.code, 126);
      assert.match(r.stderr, /is a directory/);
    });
  } finally {
    b.close();
  }
});

Deno.test(
  { name: "runtime run: rlimits, sysctl and read-only bind mounts apply", ignore },
  async () => {
    const b = makeBundle();
    const shared = Deno.makeTempDirSync({ prefix: "berth-rt-shared-" });
    try {
      Deno.writeTextFileSync(`${shared}/data`, "host data\n");
      const hostForward = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_forward");
      const r = await sh(
        b,
        "ulimit -n; cat /proc/self/oom_score_adj; cat /proc/sys/net/ipv4/ip_forward; cat /data/data; touch /data/x 2>&1; touch /rw/x && echo rw-ok",
        (s) => {
          s.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 2048 }];
          s.process.oomScoreAdj = 500;
          s.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
          s.mounts!.push(
            { destination: "/data", type: "bind", source: shared, options: ["rbind", "ro"] },
            { destination: "/rw", type: "bind", source: shared, options: ["bind"] },
          );
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^1024\n500\n1\nhost data\n.*Read-only file system\nrw-ok\n$/s);
      assert.ok(Deno.statSync(`${shared}/x`).isFile);
      assert.equal(
        Deno.readTextFileSync("/proc/sys/net/ipv4/ip_forward"),
        hostForward,
        "host sysctl untouched",
      );
      assert.deepEqual(mountsUnder(shared), []);
    } finally {
      Deno.removeSync(shared, { recursive: true });
      b.close();
    }
  },
);

Deno.test(
  { name: "runtime run: linux.seccomp filters the container's system calls", ignore },
  async () => {
    const b = makeBundle();
    try {
      const r = await sh(
        b,
        "grep '^Seccomp:' /proc/self/status; mkdir /tmp/x 2>&1; busybox unshare -U true 2>&1; touch /tmp/ok && echo touch-ok",
        (s) => {
          s.linux!.seccomp = {
            defaultAction: "SCMP_ACT_ALLOW",
            syscalls: [
              { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" },
              {
                names: ["unshare"],
                action: "SCMP_ACT_ERRNO",
                errnoRet: 38,
                args: [{
                  index: 0,
                  value: 0x10000000,
                  valueTwo: 0x10000000,
                  op: "SCMP_CMP_MASKED_EQ",
                }],
              },
            ],
          };
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /^Seccomp:\s+2\n.*Operation not permitted\n.*Function not implemented\ntouch-ok\n$/s,
      );
    } finally {
      b.close();
    }
  },
);

const SYSTEM_PROFILE = "/usr/share/containers/seccomp.json";
const hasSystemProfile = (() => {
  try {
    return Deno.statSync(SYSTEM_PROFILE).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name:
    "runtime run: a real-world seccomp profile (containers-common's) lets init and busybox work",
  ignore: ignore || !hasSystemProfile,
}, async () => {
  const b = makeBundle();
  try {
    const profile = JSON.parse(Deno.readTextFileSync(SYSTEM_PROFILE));
    for (const user of [{ uid: 0, gid: 0 }, { uid: 1000, gid: 1000, additionalGids: [10] }]) {
      const r = await sh(
        b,
        "grep '^Seccomp:' /proc/self/status; id -u; ls / | wc -l; sleep 0 & wait; echo done",
        (s) => {
          s.process.user = user;
          s.linux!.seccomp = seccompFromDockerProfile(profile, s.process.capabilities!.bounding!);
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Seccomp:\\s+2\\n${user.uid}\\n\\d+\\ndone\\n$`));
    }
  } finally {
    b.close();
  }
});
