/**
 * Docker's default seccomp profile, which berth carries itself: a static C
 * probe makes the calls busybox cannot (keyctl, unshare(CLONE_NEWUSER),
 * name_to_handle_at, clone3, an AF_VSOCK socket) in a default container, with
 * `--cap-add SYS_ADMIN`, `seccomp=unconfined` and on a host without
 * containers-common's /usr/share/containers/seccomp.json.
 */
import assert from "node:assert/strict";
import { withBusybox } from "./_containers.ts";
import { staticProgram } from "./_cprog.ts";
import { berthArgs, run } from "./_helpers.ts";

/** Each argument names a call; prints `name=ok` or `name=ERRNO`, each made in a child of its own. */
const PROBE = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long attempt(const char *name) {
  if (!strcmp(name, "keyctl")) /* KEYCTL_GET_KEYRING_ID of the user keyring, creating it */
    return syscall(SYS_keyctl, 0, -4, 1);
  if (!strcmp(name, "unshare-user")) return syscall(SYS_unshare, CLONE_NEWUSER);
  if (!strcmp(name, "unshare-uts")) return syscall(SYS_unshare, CLONE_NEWUTS);
  if (!strcmp(name, "clone3")) return syscall(SYS_clone3, NULL, 0);
  if (!strcmp(name, "vsock")) return socket(40, SOCK_STREAM, 0);
  if (!strcmp(name, "name_to_handle_at")) {
    static char handle[8 + 128];
    int mount_id;
    *(unsigned *)handle = 128;
    return syscall(SYS_name_to_handle_at, AT_FDCWD, "/dev", handle, &mount_id, 0);
  }
  fprintf(stderr, "unknown call %s\n", name);
  exit(2);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      long r = attempt(argv[i]);
      const char *e = r >= 0 ? "ok" : errno == EPERM ? "EPERM" : errno == ENOSYS ? "ENOSYS"
        : errno == EINVAL ? "EINVAL" : errno == EAFNOSUPPORT ? "EAFNOSUPPORT" : "other";
      printf("%s=%s\n", argv[i], e);
      return 0;
    }
    waitpid(pid, NULL, 0);
  }
  return 0;
}
`;

const CALLS = ["keyctl", "unshare-user", "unshare-uts", "name_to_handle_at", "clone3", "vsock"];

/** `name=result` lines as an object. */
const results = (stdout: string) =>
  Object.fromEntries(stdout.trim().split("\n").map((l) => l.split("=") as [string, string]));

/** Imports an image "probe" holding only the static probe at /probe. */
async function importProbe(dir: string, b: (args: string[]) => Promise<{ code: number }>) {
  Deno.mkdirSync(`${dir}/probe-root`);
  Deno.copyFileSync(staticProgram("seccomp_probe", PROBE), `${dir}/probe-root/probe`);
  Deno.chmodSync(`${dir}/probe-root/probe`, 0o755);
  const tar = await run("tar", ["-C", `${dir}/probe-root`, "-czf", `${dir}/probe.tar.gz`, "."]);
  assert.equal(tar.code, 0, tar.stderr);
  assert.equal((await b(["import", `${dir}/probe.tar.gz`, "probe"])).code, 0);
}

Deno.test("Docker's default profile applies on any host: keyrings, user namespaces and handles get EPERM, clone3 ENOSYS", async () => {
  await withBusybox(async ({ dir, b }) => {
    await importProbe(dir, b);
    const probe = async (...flags: string[]) => {
      const r = await b(["run", "--rm", ...flags, "probe", "/probe", ...CALLS]);
      assert.equal(r.code, 0, r.stderr);
      return results(r.stdout);
    };

    const denied = {
      keyctl: "EPERM",
      "unshare-user": "EPERM",
      "unshare-uts": "EPERM",
      name_to_handle_at: "EPERM",
      clone3: "ENOSYS",
      vsock: "EPERM",
    };
    assert.deepEqual(await probe(), denied, "the default container");
    assert.deepEqual(await probe("--security-opt", "seccomp=builtin"), denied);

    const admin = await probe("--cap-add", "SYS_ADMIN");
    assert.equal(admin["unshare-uts"], "ok", "CAP_SYS_ADMIN opens unshare");
    assert.equal(admin["unshare-user"], "ok");
    assert.equal(admin.name_to_handle_at, "ok");
    assert.equal(admin.clone3, "EINVAL", "clone3 reaches the kernel (which refuses size 0)");
    assert.equal(admin.keyctl, "EPERM", "keyrings stay closed");

    // A profile file replaces the built-in one entirely.
    Deno.writeTextFileSync(
      `${dir}/profile.json`,
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["keyctl"], action: "SCMP_ACT_ERRNO", errnoRet: 22 }],
      }),
    );
    const own = await probe("--security-opt", `seccomp=${dir}/profile.json`);
    assert.equal(own.keyctl, "EINVAL", "the file's errnoRet");
    assert.equal(own.name_to_handle_at, "ok", "the file allows what the built-in denies");
    assert.equal(own.clone3, "EINVAL");

    const open = await probe("--security-opt", "seccomp=unconfined");
    assert.equal(open.keyctl, "ok", "without a filter keyctl works");
    assert.equal(open.name_to_handle_at, "ok");
    assert.equal(open.clone3, "EINVAL");
    assert.notEqual(open.vsock, "EPERM");
  });
});

Deno.test("the default profile does not depend on /usr/share/containers/seccomp.json", async () => {
  await withBusybox(async ({ dir, b }) => {
    await importProbe(dir, b);
    // A private mount namespace where the host's containers-common directory is empty.
    const argv = berthArgs(`${dir}/root`, [
      "--run-root",
      `${dir}/run`,
      "run",
      "--rm",
      "probe",
      "/probe",
      "keyctl",
      "unshare-user",
      "name_to_handle_at",
    ]);
    const script = 'mount -t tmpfs none /usr/share/containers && exec "$0" "$@"';
    const r = await run("unshare", [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      Deno.execPath(),
      ...argv,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(results(r.stdout), {
      keyctl: "EPERM",
      "unshare-user": "EPERM",
      name_to_handle_at: "EPERM",
    });
  });
});

Deno.test("what init does after installing the default profile passes it, for any -u", async () => {
  await withBusybox(async ({ b }) => {
    for (const user of ["0", "1000", "1000:1000", "nobody"]) {
      const r = await b([
        "run",
        "--rm",
        "-u",
        user,
        "busybox",
        "sh",
        "-c",
        "id -u; grep Seccomp: /proc/self/status",
      ]);
      assert.equal(r.code, 0, `-u ${user}: ${r.stderr}`);
      assert.match(r.stdout, /^\d+\nSeccomp:\t2\n$/, `-u ${user}`);
    }
    const exec = await b(["run", "-d", "--name", "sec", "busybox", "sleep", "30"]);
    assert.equal(exec.code, 0, exec.stderr);
    const inside = await b([
      "exec",
      "-u",
      "1000",
      "sec",
      "sh",
      "-c",
      "id -u; grep Seccomp: /proc/self/status",
    ]);
    assert.equal(inside.stdout, "1000\nSeccomp:\t2\n", inside.stderr);
  });
});

/** An i386 program (int 0x80, no libc): writes "hi", exits 0 if keyctl works, else with its errno. */
const I386_PROBE = String.raw`
.globl _start
_start:
  mov $4, %eax          # write(1, msg, 3)
  mov $1, %ebx
  lea msg, %ecx
  mov $3, %edx
  int $0x80
  mov $288, %eax        # keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 1)
  xor %ebx, %ebx
  mov $-4, %ecx
  mov $1, %edx
  int $0x80
  xor %ebx, %ebx
  test %eax, %eax
  jns done
  neg %eax
  mov %eax, %ebx
done:
  mov $1, %eax          # exit
  int $0x80
.data
msg: .ascii "hi\n"
`;

Deno.test("i386 programs run under the default profile, filtered by their own call numbers", async () => {
  await withBusybox(async ({ dir, b }) => {
    Deno.mkdirSync(`${dir}/i386-root`);
    Deno.writeTextFileSync(`${dir}/probe32.S`, I386_PROBE);
    const cc = await run("gcc", [
      "-m32",
      "-nostdlib",
      "-static",
      "-no-pie",
      "-o",
      `${dir}/i386-root/probe32`,
      `${dir}/probe32.S`,
    ]);
    assert.equal(cc.code, 0, cc.stderr);
    const tar = await run("tar", ["-C", `${dir}/i386-root`, "-czf", `${dir}/i386.tar.gz`, "."]);
    assert.equal(tar.code, 0, tar.stderr);
    assert.equal((await b(["import", `${dir}/i386.tar.gz`, "probe32"])).code, 0);

    const confined = await b(["run", "--rm", "probe32", "/probe32"]);
    assert.equal(confined.stdout, "hi\n", "not killed: i386 calls pass the filter");
    assert.equal(confined.code, 1, "keyctl (288 on i386) gets EPERM");
    const open = await b([
      "run",
      "--rm",
      "--security-opt",
      "seccomp=unconfined",
      "probe32",
      "/probe32",
    ]);
    assert.equal(open.stdout, "hi\n");
    assert.equal(open.code, 0, "without a filter keyctl works");
  });
});

Deno.test("inspect says which seccomp profile a container has", async () => {
  await withBusybox(async ({ dir, b }) => {
    Deno.writeTextFileSync(
      `${dir}/profile.json`,
      JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW" }),
    );
    const cases: [string[], string][] = [
      [[], "builtin"],
      [["--security-opt", "seccomp=unconfined"], "unconfined"],
      [["--security-opt", `seccomp=${dir}/profile.json`], `${dir}/profile.json`],
      [["--privileged"], "unconfined"],
    ];
    for (const [flags, want] of cases) {
      const created = await b(["create", ...flags, "busybox", "true"]);
      assert.equal(created.code, 0, created.stderr);
      const id = created.stdout.trim();
      const r = await b([
        "inspect",
        "-f",
        "{{.SeccompProfile}} {{json .HostConfig.SecurityOpt}}",
        id,
      ]);
      const given = flags.includes("--security-opt") ? JSON.stringify([flags[1]]) : "null";
      assert.equal(r.stdout, `${want} ${given}\n`, flags.join(" "));
      assert.equal((await b(["rm", id])).code, 0);
    }
  });
});
