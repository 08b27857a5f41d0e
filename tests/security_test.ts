/**
 * What a container must not get from its host by default: the caller's
 * session keyring (a fresh one per container, as runc gives), and file
 * capabilities through a non-empty inheritable set (CVE-2022-24769). Each
 * probe is a static C program (tests/_cprog.ts), bind-mounted into a busybox
 * container; each check also runs the probe on the host first, to show it
 * does find what the container must not.
 */
import assert from "node:assert/strict";
import { type Env, withBusybox } from "./_containers.ts";
import { staticProgram } from "./_cprog.ts";
import { berthArgs, type Run } from "./_helpers.ts";

const ignore = Deno.uid() !== 0;

/** Prints its session keyring, then searches it for the user key named argv[1] and prints its payload. */
const KEY_PROBE = `
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long ring = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* @s */, 0);
  char desc[256] = "";
  if (ring >= 0) syscall(SYS_keyctl, 6 /* DESCRIBE */, ring, desc, sizeof desc - 1);
  printf("session %ld %s\\n", ring, desc);
  long key = syscall(SYS_keyctl, 10 /* SEARCH */, -3, "user", argv[1], 0);
  if (key < 0) { printf("search: %s\\n", strerror(errno)); return 0; }
  char buf[256] = "";
  long n = syscall(SYS_keyctl, 11 /* READ */, key, buf, sizeof buf - 1);
  if (n < 0) { printf("read: %s\\n", strerror(errno)); return 0; }
  printf("payload %.*s\\n", (int)n, buf);
  return 0;
}
`;

/**
 * Joins a new anonymous session keyring, adds user key argv[1] = argv[2] to
 * it, runs argv[3..], then invalidates the key: the host's own keyrings stay
 * untouched.
 */
const KEY_HOST = `
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 4) return 99;
  if (syscall(SYS_keyctl, 1 /* JOIN_SESSION_KEYRING */, 0) < 0) { perror("join"); return 99; }
  long key = syscall(SYS_add_key, "user", argv[1], argv[2], strlen(argv[2]), -3);
  if (key < 0) { perror("add_key"); return 99; }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) { execv(argv[3], argv + 3); perror("execv"); _exit(127); }
  int st = 0;
  waitpid(pid, &st, 0);
  syscall(SYS_keyctl, 21 /* INVALIDATE */, key);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
`;

/** Opens argv[1] and prints what it read, or the error. */
const OPEN_PROBE = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { printf("open: %s\\n", strerror(errno)); return 1; }
  char buf[64];
  long n = read(fd, buf, sizeof buf);
  printf("read %.*s", (int)(n < 0 ? 0 : n), buf);
  return 0;
}
`;

const dec = new TextDecoder();

/** Runs `argv` under KEY_HOST with key `name` = `secret` in a session keyring of its own. */
async function withHostKey(name: string, secret: string, argv: string[]): Promise<Run> {
  const out = await new Deno.Command(staticProgram("key_host", KEY_HOST), {
    args: [name, secret, ...argv],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Imports image "probes": the busybox rootfs plus `/probe/<name>` for each of
 * `files` (copied, mode 0755), a 0600 root file `/probe/secret`, and the file
 * capabilities `caps` (name -> setcap text) kept as `security.capability`
 * xattrs in the layer (berth has no volumes yet, so the probes come in the image).
 */
async function probeImage(
  env: Env,
  files: Record<string, string>,
  caps: Record<string, string> = {},
): Promise<void> {
  const ctx = `${env.dir}/probes`;
  Deno.mkdirSync(`${ctx}/probe`, { recursive: true });
  const sh = async (cmd: string, args: string[]) => {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    assert.equal(out.code, 0, `${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  };
  await sh("tar", ["-xzf", `${env.dir}/rootfs.tar.gz`, "-C", ctx]);
  Deno.chmodSync(`${ctx}/probe`, 0o755);
  for (const [name, from] of Object.entries(files)) {
    Deno.copyFileSync(from, `${ctx}/probe/${name}`);
    Deno.chmodSync(`${ctx}/probe/${name}`, 0o755);
  }
  Deno.writeTextFileSync(`${ctx}/probe/secret`, "root only\n");
  Deno.chmodSync(`${ctx}/probe/secret`, 0o600);
  for (const [name, cap] of Object.entries(caps)) await sh("setcap", [cap, `${ctx}/probe/${name}`]);
  const tarball = `${env.dir}/probes.tar.gz`;
  await sh("tar", [
    "--xattrs",
    "--xattrs-include=security.capability",
    "--numeric-owner",
    "-czf",
    tarball,
    "-C",
    ctx,
    ".",
  ]);
  const r = await env.b(["import", tarball, "probes"]);
  assert.equal(r.code, 0, r.stderr);
}

Deno.test({
  name: "a container, and exec in it, cannot read a key of the caller's session keyring",
  ignore,
}, async (t) => {
  await withBusybox(async (env) => {
    const keyprobe = staticProgram("key_probe", KEY_PROBE);
    await probeImage(env, { keyprobe });
    const name = `berth-test-${Deno.pid}`;
    const secret = `s3cret-${crypto.randomUUID()}`;
    const berthCmd = (args: string[]) => [
      Deno.execPath(),
      ...berthArgs(`${env.dir}/root`, ["--run-root", `${env.dir}/run`, ...args]),
    ];
    const unconfined = ["--security-opt", "seccomp=unconfined"];

    let hostRing = "";
    await t.step("the probe finds the key on the host", async () => {
      const r = await withHostKey(name, secret, [keyprobe, name]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`payload ${secret}`));
      hostRing = /^session (\S+)/.exec(r.stdout)![1]!;
    });

    await t.step("run: a fresh session keyring, the key not found", async () => {
      const r = await withHostKey(
        name,
        secret,
        berthCmd(["run", "--rm", ...unconfined, "probes", "/probe/keyprobe", name]),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, new RegExp(secret));
      assert.match(r.stdout, /search: Required key not available/);
      const ring = /^session (\S+) keyring;0;0;[0-9a-f]+;_ses\.[0-9a-f]{64}$/m.exec(r.stdout);
      assert.ok(ring !== null, r.stdout);
      assert.notEqual(ring[1], hostRing);
    });

    await t.step("exec: joins the container's keyring, not the caller's", async () => {
      const run = await withHostKey(
        name,
        secret,
        berthCmd(["run", "-d", "--name", "keys", ...unconfined, "probes", "sleep", "60"]),
      );
      assert.equal(run.code, 0, run.stderr);
      const id = run.stdout.trim();
      const r = await withHostKey(
        name,
        secret,
        berthCmd(["exec", "keys", "/probe/keyprobe", name]),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, new RegExp(secret));
      assert.match(r.stdout, /search: Required key not available/);
      const ring = /^session (\S+) .*;_ses\.(\S+)$/m.exec(r.stdout);
      assert.ok(ring !== null, r.stdout);
      assert.notEqual(ring[1], hostRing);
      assert.equal(ring[2], id);
    });
  });
});

Deno.test({
  name: "a file-capability binary run as -u 1000 cannot read a 0600 root file (run, nnp, exec)",
  ignore,
}, async (t) => {
  await withBusybox(async (env) => {
    const open = staticProgram("open_probe", OPEN_PROBE);
    await probeImage(env, { override: open, search: open }, {
      override: "cap_dac_override+ei",
      search: "cap_dac_read_search+ei",
    });

    await t.step("the probe reads the file as root", async () => {
      const r = await env.b(["run", "--rm", "probes", "/probe/override", "/probe/secret"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "read root only\n");
    });

    for (
      const [label, flags] of [
        ["run -u 1000", []],
        ["run -u 1000 --security-opt no-new-privileges", ["--security-opt", "no-new-privileges"]],
        ["run -u 1000 --cap-add DAC_READ_SEARCH", ["--cap-add", "DAC_READ_SEARCH"]],
      ] as const
    ) {
      await t.step(`${label}: permission denied`, async () => {
        for (const file of ["override", "search"]) {
          const r = await env.b([
            "run",
            "--rm",
            "-u",
            "1000",
            ...flags,
            "probes",
            `/probe/${file}`,
            "/probe/secret",
          ]);
          assert.equal(r.stdout, "open: Permission denied\n", `${file}: ${r.stderr}`);
          assert.equal(r.code, 1);
        }
      });
    }

    await t.step("run: CapInh and CapAmb are empty, for root and for -u 1000", async () => {
      for (const user of [[], ["-u", "1000"]]) {
        const r = await env.b([
          "run",
          "--rm",
          ...user,
          "probes",
          "grep",
          "Cap",
          "/proc/self/status",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^CapInh:\t0{16}$/m);
        assert.match(r.stdout, /^CapAmb:\t0{16}$/m);
      }
    });

    await t.step("exec -u 1000: permission denied, CapInh and CapAmb empty", async () => {
      const run = await env.b(["run", "-d", "--name", "caps", "probes", "sleep", "60"]);
      assert.equal(run.code, 0, run.stderr);
      for (const file of ["override", "search"]) {
        const r = await env.b(["exec", "-u", "1000", "caps", `/probe/${file}`, "/probe/secret"]);
        assert.equal(r.stdout, "open: Permission denied\n", `${file}: ${r.stderr}`);
        assert.equal(r.code, 1);
      }
      for (const user of [[], ["-u", "1000"]]) {
        const r = await env.b(["exec", ...user, "caps", "grep", "Cap", "/proc/self/status"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^CapInh:\t0{16}$/m);
        assert.match(r.stdout, /^CapAmb:\t0{16}$/m);
      }
    });
  });
});

Deno.test({
  name:
    "a container made by an older berth (inheritable caps, no seccomp) gets today's defaults at start and exec",
  ignore,
}, async () => {
  await withBusybox(async (env) => {
    const created = await env.b(["create", "--name", "old", "busybox", "sleep", "60"]);
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    // What berth's defaultSpec wrote before CVE-2022-24769 was addressed: inheritable = bounding.
    const config = `${env.dir}/root/containers/${id}/bundle/config.json`;
    const spec = JSON.parse(Deno.readTextFileSync(config));
    spec.process.capabilities.inheritable = [...spec.process.capabilities.bounding];
    // What it wrote on a host without containers-common's profile: no filter at all.
    delete spec.linux.seccomp;
    // An older berth did not stamp its defaults' revision.
    delete spec.annotations["org.berth.security-defaults"];
    Deno.writeTextFileSync(config, JSON.stringify(spec));
    const start = await env.b(["start", "old"]);
    assert.equal(start.code, 0, start.stderr);
    for (const pid of ["1", "self"]) {
      const r = await env.b(["exec", "old", "grep", "Cap", `/proc/${pid}/status`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^CapInh:\t0{16}$/m, `/proc/${pid}/status`);
      assert.match(r.stdout, /^CapAmb:\t0{16}$/m, `/proc/${pid}/status`);
      const filter = await env.b(["exec", "old", "grep", "Seccomp:", `/proc/${pid}/status`]);
      assert.equal(filter.stdout, "Seccomp:\t2\n", `/proc/${pid}/status`);
    }
  });
});
