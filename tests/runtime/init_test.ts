/**
 * Init's last steps as the OCI runtime-tools suite checks them: nothing of
 * init's own but execve (and capset, when the filter needed CAP_SYS_ADMIN)
 * runs under the container's seccomp filter; an error after `start`
 * reaches `start`; rlimits that would starve init (RLIMIT_AS) apply only
 * at the last moment.
 */
import assert from "node:assert/strict";
import { staticProgram } from "../_cprog.ts";
import {
  assertNoLeftovers,
  berthRuntime,
  cleanup,
  makeBundle,
  runBundle,
  SKIP_REASON,
  type TestBundle,
  uniqueId,
} from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;

/** Writes "ok" and exits: a static glibc program needs only the calls in HELLO_CALLS. */
const HELLO = `
#include <unistd.h>
int main(void) { write(1, "ok\\n", 3); return 0; }
`;

/** What a static glibc program makes from execve to exit (strace of HELLO). */
const HELLO_CALLS = [
  "execve",
  "brk",
  "arch_prctl",
  "set_tid_address",
  "set_robust_list",
  "rseq",
  "prlimit64",
  "readlink",
  "getrandom",
  "mprotect",
  "write",
  "exit_group",
  "exit",
];

/** A bundle whose rootfs has HELLO at /hello. */
function helloBundle(): TestBundle {
  const b = makeBundle();
  Deno.copyFileSync(staticProgram("hello", HELLO), `${b.dir}/rootfs/hello`);
  Deno.chmodSync(`${b.dir}/rootfs/hello`, 0o755);
  return b;
}

for (
  const [label, nnp, extra] of [
    ["with no_new_privs: execve and the process's own calls", true, []],
    ["without no_new_privs: those and capset", false, ["capset"]],
  ] as const
) {
  Deno.test({
    name: `runtime run: a seccomp allowlist of just the process's calls works, ${label}`,
    ignore,
  }, async () => {
    const b = helloBundle();
    const id = uniqueId("strict");
    try {
      b.write({ args: ["/hello"], noNewPrivileges: nnp }, (s) => {
        s.linux!.seccomp = {
          defaultAction: "SCMP_ACT_ERRNO",
          syscalls: [{ names: [...HELLO_CALLS, ...extra], action: "SCMP_ACT_ALLOW" }],
        };
      });
      const r = await runBundle(b, id);
      assert.equal(r.stderr, "");
      assert.equal(r.stdout, "ok\n");
      assert.equal(r.code, 0);
      await berthRuntime(["delete", "--root", b.stateRoot, id]);
      assertNoLeftovers(b, id, r.pid);
    } finally {
      await cleanup(b, id);
      b.close();
    }
  });
}

Deno.test({
  name: "runtime run: the allowlist test's filter does deny what it leaves out",
  ignore,
}, async () => {
  // The same allowlist without write: the process runs, but cannot print.
  const b = helloBundle();
  const id = uniqueId("strict");
  try {
    b.write({ args: ["/hello"], noNewPrivileges: true }, (s) => {
      s.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: HELLO_CALLS.filter((c) => c !== "write"), action: "SCMP_ACT_ALLOW" }],
      };
    });
    const r = await runBundle(b, id);
    assert.equal(r.stdout, "");
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await cleanup(b, id);
    b.close();
  }
});

for (
  const [label, edit, error, code] of [
    [
      "execve fails (the file lost its x bit after create)",
      (b: TestBundle) => Deno.chmodSync(`${b.dir}/rootfs/hello`, 0o644),
      /exec: "\/hello": permission denied/,
      126,
    ],
    [
      "a limit cannot be set (RLIMIT_NOFILE above fs.nr_open)",
      undefined,
      /setrlimit "RLIMIT_NOFILE": EPERM/,
      125,
    ],
  ] as const
) {
  Deno.test({
    name: `runtime start: exits non-zero with init's error when ${label}`,
    ignore,
  }, async () => {
    const b = helloBundle();
    const id = uniqueId("late");
    const root = ["--root", b.stateRoot];
    let pid: number | undefined;
    try {
      const nrOpen = Number(Deno.readTextFileSync("/proc/sys/fs/nr_open"));
      b.write({ args: ["/hello"] }, (s) => {
        if (edit === undefined) {
          s.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: 1024, hard: nrOpen + 1 }];
        }
      });
      const created = await berthRuntime(["create", ...root, "--bundle", b.dir, id], {
        detached: true,
      });
      assert.equal(created.code, 0, created.stderr);
      pid = JSON.parse((await berthRuntime(["state", ...root, id])).stdout).pid;
      edit?.(b);
      const started = await berthRuntime(["start", ...root, id]);
      assert.match(started.stderr, error);
      assert.equal(started.stderr.trim().split("\n").length, 1, started.stderr);
      assert.equal(started.code, code);
      const state = JSON.parse((await berthRuntime(["state", ...root, id])).stdout);
      assert.equal(state.status, "stopped");
      const deleted = await berthRuntime(["delete", ...root, id]);
      assert.equal(deleted.code, 0, deleted.stderr);
      assertNoLeftovers(b, id, pid);
    } finally {
      await cleanup(b, id);
      b.close();
    }
  });
}

Deno.test({
  name:
    "runtime run: RLIMIT_AS and RLIMIT_DATA of 64 MiB apply to the process and do not kill init",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("as");
  try {
    const limit = 64 * 1024 * 1024;
    b.write({ args: ["sh", "-c", "ulimit -v; ulimit -d; ulimit -n"] }, (s) => {
      s.process.rlimits = [
        { type: "RLIMIT_AS", soft: limit, hard: limit },
        { type: "RLIMIT_DATA", soft: limit, hard: limit },
        { type: "RLIMIT_NOFILE", soft: 5, hard: 5 },
      ];
    });
    const r = await runBundle(b, id);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, `${limit / 1024}\n${limit / 1024}\n5\n`);
    assert.equal(r.code, 0);
    await berthRuntime(["delete", "--root", b.stateRoot, id]);
    assertNoLeftovers(b, id, r.pid);
  } finally {
    await cleanup(b, id);
    b.close();
  }
});

for (const inheritable of [false, true]) {
  Deno.test({
    name: inheritable
      ? "runtime run: ambient capabilities that are also inheritable are raised"
      : "runtime run: ambient capabilities that are not inheritable (runc spec's config) are left out, not fatal",
    ignore,
  }, async () => {
    const b = makeBundle();
    const id = uniqueId("amb");
    try {
      // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29)
      const caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
      const mask = "0000000020000420";
      b.write({ args: ["sh", "-c", "grep -E '^Cap(Inh|Prm|Amb)' /proc/self/status"] }, (s) => {
        s.process.capabilities = {
          bounding: caps,
          effective: caps,
          permitted: caps,
          ambient: caps,
          ...(inheritable ? { inheritable: caps } : {}),
        };
      });
      const r = await runBundle(b, id);
      assert.equal(r.stderr, "");
      const none = "0".repeat(16);
      assert.equal(
        r.stdout,
        `CapInh:\t${inheritable ? mask : none}\nCapPrm:\t${mask}\nCapAmb:\t${
          inheritable ? mask : none
        }\n`,
      );
      assert.equal(r.code, 0);
      await berthRuntime(["delete", "--root", b.stateRoot, id]);
      assertNoLeftovers(b, id, r.pid);
    } finally {
      await cleanup(b, id);
      b.close();
    }
  });
}
