import assert from "node:assert/strict";
import type { SockFilter } from "../../ffi/seccomp.ts";
import { type SyscallArch, syscallNumber } from "../../ffi/syscall_numbers.ts";
import { InvalidError } from "../errors.ts";
import { actionValue, compileSeccomp } from "./seccomp.ts";
import type { Seccomp, SeccompArg } from "./spec.ts";
import { dockerDefaultSeccomp } from "./seccomp_default.ts";
import { DEFAULT_CAPABILITIES } from "./default_spec.ts";

/** Runs a seccomp program on (nr, args) the way the kernel's classic BPF does. */
function run(
  prog: readonly SockFilter[],
  nr: number,
  args: bigint[] = [],
  arch = 0xc000003e,
): number {
  const words = new Uint32Array(16);
  words[0] = nr;
  words[1] = arch;
  args.forEach((a, i) => {
    words[4 + 2 * i] = Number(a & 0xffffffffn);
    words[5 + 2 * i] = Number(a >> 32n);
  });
  let acc = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    if (code === 0x20) acc = words[k / 4]!;
    else if (code === 0x54) acc = (acc & k) >>> 0;
    else if (code === 0x15) pc += acc === k >>> 0 ? jt : jf;
    else if (code === 0x25) pc += acc > k >>> 0 ? jt : jf;
    else if (code === 0x35) pc += acc >= k >>> 0 ? jt : jf;
    else if (code === 0x05) pc += k;
    else if (code === 0x06) return k >>> 0;
    else throw new Error(`opcode ${code}`);
  }
  throw new Error("fell off the end");
}

const nr = (name: string) => syscallNumber(name)!;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;

Deno.test("compileSeccomp() returns each rule's action and the default otherwise", () => {
  const prog = compileSeccomp({
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 38,
    syscalls: [
      { names: ["read", "write", "nosuchcall"], action: "SCMP_ACT_ALLOW" },
      { names: ["mkdir"], action: "SCMP_ACT_KILL_PROCESS" },
    ],
  });
  assert.equal(run(prog, nr("read")), ALLOW);
  assert.equal(run(prog, nr("write")), ALLOW);
  assert.equal(run(prog, nr("mkdir")), 0x80000000);
  assert.equal(run(prog, nr("openat")), 0x00050026, "ENOSYS from defaultErrnoRet");
  assert.equal(run(prog, nr("read") | 0x40000000), 0x00050026, "x32 calls get the default");
  assert.equal(run(prog, nr("read"), [], 0x40000003), 0x80000000, "another architecture is killed");
});

Deno.test("compileSeccomp() checks 64-bit argument conditions", () => {
  const rule = (op: string, value: number, valueTwo?: number) =>
    compileSeccomp({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [{
        names: ["personality"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value, op, ...(valueTwo === undefined ? {} : { valueTwo }) }],
      }],
    });
  const p = nr("personality");
  const eq = rule("SCMP_CMP_EQ", 0xffffffff);
  assert.equal(run(eq, p, [0xffffffffn]), ALLOW);
  assert.equal(run(eq, p, [0x1ffffffffn]), EPERM, "the high word counts");
  assert.equal(run(eq, p, [8n]), EPERM);
  const ne = rule("SCMP_CMP_NE", 40);
  assert.equal(run(ne, p, [40n]), EPERM);
  assert.equal(run(ne, p, [41n]), ALLOW);
  assert.equal(run(ne, p, [40n + (1n << 32n)]), ALLOW);
  const masked = rule("SCMP_CMP_MASKED_EQ", 0x7e020000, 0);
  assert.equal(run(masked, p, [0x11n]), ALLOW, "no namespace flag");
  assert.equal(run(masked, p, [0x10000000n]), EPERM, "CLONE_NEWUSER");
  const gt = rule("SCMP_CMP_GT", 10);
  assert.deepEqual([9n, 10n, 11n, 1n << 33n].map((v) => run(gt, p, [v])), [
    EPERM,
    EPERM,
    ALLOW,
    ALLOW,
  ]);
  const ge = rule("SCMP_CMP_GE", 10);
  assert.deepEqual([9n, 10n, 11n].map((v) => run(ge, p, [v])), [EPERM, ALLOW, ALLOW]);
  const lt = rule("SCMP_CMP_LT", 10);
  assert.deepEqual([9n, 10n, 1n << 33n].map((v) => run(lt, p, [v])), [ALLOW, EPERM, EPERM]);
  const le = rule("SCMP_CMP_LE", 10);
  assert.deepEqual([9n, 10n, 11n].map((v) => run(le, p, [v])), [ALLOW, ALLOW, EPERM]);
});

Deno.test("compileSeccomp() tries rules in order and falls through failed conditions", () => {
  const prog = compileSeccomp({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["socket"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: 22,
        args: [{ index: 0, value: 16, op: "SCMP_CMP_EQ" }, {
          index: 2,
          value: 9,
          op: "SCMP_CMP_EQ",
        }],
      },
      { names: ["socket"], action: "SCMP_ACT_ALLOW" },
      {
        names: ["read", "write", "openat", "close", "mmap", "execve", "exit_group"],
        action: "SCMP_ACT_ALLOW",
      },
    ],
  });
  const s = nr("socket");
  assert.equal(run(prog, s, [16n, 3n, 9n]), 0x00050016, "audit netlink socket: EINVAL");
  assert.equal(
    run(prog, s, [16n, 3n, 0n]),
    ALLOW,
    "a failed condition falls through to the next rule",
  );
  assert.equal(run(prog, s, [2n, 1n, 9n]), ALLOW);
  assert.equal(run(prog, nr("exit_group")), ALLOW);
  assert.equal(run(prog, nr("kill")), EPERM);
});

Deno.test("compileSeccomp() folds runs of consecutive calls with one return into range checks", () => {
  const names = dockerDefaultSeccomp([], "6.1").syscalls![0]!.names.filter((n) =>
    syscallNumber(n) !== undefined
  );
  assert.ok(names.length > 250, `${names.length} names`);
  const prog = compileSeccomp({
    defaultAction: "SCMP_ACT_KILL",
    syscalls: [{ names: [...names, ...names], action: "SCMP_ACT_ALLOW" }],
  });
  assert.ok(prog.length < names.length / 2, `${prog.length} instructions`);
  assert.ok(prog.every((i) => i.jt < 256 && i.jf < 256));
  const allowed = new Set(names.map(nr));
  for (let n = 0; n < 600; n++) assert.equal(run(prog, n), allowed.has(n) ? ALLOW : 0, `${n}`);
});

Deno.test("compileSeccomp() keeps first-match order per call and steps over long blocks", () => {
  const families = Array.from({ length: 70 }, (_, i) => i + 100);
  const prog = compileSeccomp({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_ALLOW" },
      // decided above: a later rule for read never applies
      { names: ["read"], action: "SCMP_ACT_KILL" },
      ...families.map((f) => ({
        names: ["socket"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: f, op: "SCMP_CMP_EQ" }],
      })),
      { names: ["socket", "write"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
      { names: ["socket"], action: "SCMP_ACT_ALLOW" },
    ],
  });
  assert.ok(prog.some((i) => i.code === 0x05), "a 32-bit jump over the 350-instruction block");
  const s = nr("socket");
  assert.equal(run(prog, nr("read")), ALLOW);
  assert.equal(run(prog, s, [100n]), ALLOW);
  assert.equal(run(prog, s, [169n]), ALLOW);
  assert.equal(run(prog, s, [2n]), 0x0005000d, "no condition held: the next unconditional rule");
  assert.equal(run(prog, nr("write")), 0x0005000d);
  assert.equal(run(prog, nr("close")), EPERM, "the default after the long block");
});

Deno.test("compileSeccomp() rejects actions and operators it does not support", () => {
  assert.throws(() => compileSeccomp({ defaultAction: "SCMP_ACT_NOTIFY" }), InvalidError);
  assert.throws(
    () =>
      compileSeccomp({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{
          names: ["read"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, value: 1, op: "SCMP_CMP_BOGUS" }],
        }],
      }),
    /operator "SCMP_CMP_BOGUS"/,
  );
});

const ENOSYS = 0x00050026;

/** Docker's default profile for `caps`, compiled, as a function of (call, args). */
function dockerDefault(caps: readonly string[], kernel = "6.1.0-13-amd64") {
  const prog = compileSeccomp(dockerDefaultSeccomp(caps, kernel));
  return (name: string, ...args: bigint[]) => run(prog, nr(name), args);
}

const CLONE_THREAD_FLAGS = 0x3d0f00n; // what pthread_create passes
const CLONE_NEWUSER = 0x10000000n;

Deno.test("Docker's default profile refuses keyrings, namespaces, mounts and handles without CAP_SYS_ADMIN", () => {
  const call = dockerDefault(DEFAULT_CAPABILITIES);
  for (const name of ["keyctl", "add_key", "request_key", "unshare", "setns", "mount", "umount2"]) {
    assert.equal(call(name), EPERM, name);
  }
  for (const name of ["name_to_handle_at", "open_by_handle_at", "bpf", "perf_event_open"]) {
    assert.equal(call(name), EPERM, name);
  }
  for (const name of ["reboot", "init_module", "kexec_load", "io_uring_setup", "settimeofday"]) {
    assert.equal(call(name), EPERM, name);
  }
  assert.equal(call("clone3"), ENOSYS, "clone3 answers ENOSYS so libc falls back to clone");
  assert.equal(call("clone", CLONE_THREAD_FLAGS), ALLOW);
  assert.equal(call("clone", 17n /* SIGCHLD: fork */), ALLOW);
  assert.equal(call("clone", CLONE_THREAD_FLAGS | CLONE_NEWUSER), EPERM);
  assert.equal(call("clone", 0x20000n /* CLONE_NEWNS */), EPERM);
  assert.equal(call("chroot"), ALLOW, "CAP_SYS_CHROOT is a default capability");
});

Deno.test("Docker's default profile filters personality and socket arguments", () => {
  const call = dockerDefault(DEFAULT_CAPABILITIES);
  for (const p of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) {
    assert.equal(call("personality", p), ALLOW, `personality(${p})`);
  }
  assert.equal(call("personality", 0x40000n /* ADDR_NO_RANDOMIZE */), EPERM);
  assert.equal(call("personality", 0x1_0000_0000n), EPERM, "the high word counts");
  // AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_XDP are allowed
  for (const f of [1n, 2n, 10n, 16n, 17n, 44n]) assert.equal(call("socket", f, 1n, 0n), ALLOW);
  // AF_DECnet, AF_ALG, AF_VSOCK and families past the table are refused
  for (const f of [12n, 38n, 40n, 46n]) assert.equal(call("socket", f, 1n, 0n), EPERM, `${f}`);
});

Deno.test("Docker's default profile allows what init does after installing it, and a program's basics", () => {
  const call = dockerDefault(DEFAULT_CAPABILITIES);
  const init = ["prctl", "capset", "capget", "setresuid", "setresgid", "setgroups", "close_range"];
  const runtime = ["rt_sigaction", "rt_sigprocmask", "execve", "execveat", "futex", "tgkill"];
  const program = ["mmap", "munmap", "madvise", "getrandom", "openat", "exit_group", "wait4"];
  for (const name of [...init, ...runtime, ...program, "fchmodat2", "rseq", "arch_prctl"]) {
    assert.equal(call(name), ALLOW, name);
  }
  assert.equal(call("ptrace"), ALLOW, "ptrace from kernel 4.8 on");
  assert.equal(dockerDefault(DEFAULT_CAPABILITIES, "4.4.0")("ptrace"), EPERM, "not before");
});

Deno.test("Docker's default profile opens each capability's calls only with that capability", () => {
  const cases: [string, string[]][] = [
    ["CAP_SYS_ADMIN", ["mount", "umount2", "unshare", "setns", "sethostname", "name_to_handle_at"]],
    ["CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise"]],
    ["CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module"]],
    ["CAP_SYS_BOOT", ["reboot"]],
    ["CAP_SYS_TIME", ["settimeofday", "clock_settime"]],
    ["CAP_SYS_NICE", ["mbind", "set_mempolicy", "set_mempolicy_home_node"]],
    ["CAP_SYSLOG", ["syslog"]],
    ["CAP_SYS_RAWIO", ["iopl", "ioperm"]],
    ["CAP_SYS_PACCT", ["acct"]],
    ["CAP_SYS_TTY_CONFIG", ["vhangup"]],
    ["CAP_DAC_READ_SEARCH", ["open_by_handle_at"]],
    ["CAP_BPF", ["bpf"]],
    ["CAP_PERFMON", ["perf_event_open"]],
  ];
  const without = dockerDefault(DEFAULT_CAPABILITIES);
  for (const [cap, names] of cases) {
    const withCap = dockerDefault([...DEFAULT_CAPABILITIES, cap.replace(/^CAP_/, "")]);
    for (const name of names) {
      assert.equal(without(name), EPERM, `${name} without ${cap}`);
      assert.equal(withCap(name), ALLOW, `${name} with ${cap}`);
    }
  }
  const admin = dockerDefault([...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]);
  assert.equal(admin("clone3"), ALLOW, "no ENOSYS with CAP_SYS_ADMIN");
  assert.equal(admin("clone", CLONE_THREAD_FLAGS | CLONE_NEWUSER), ALLOW);
  assert.equal(admin("keyctl"), EPERM, "keyrings stay closed even with CAP_SYS_ADMIN");
  const noChroot = dockerDefault(DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_SYS_CHROOT"));
  assert.equal(noChroot("chroot"), EPERM, "--cap-drop SYS_CHROOT closes chroot");
});

Deno.test("Docker's default profile filters i386 programs by their own call numbers", () => {
  const prog = compileSeccomp(dockerDefaultSeccomp(DEFAULT_CAPABILITIES, "6.1"));
  const I386 = 0x40000003;
  const call = (name: string, ...args: bigint[]) =>
    run(prog, syscallNumber(name, "i386")!, args, I386);
  for (const name of ["read", "write", "execve", "mmap2", "socketcall", "set_thread_area"]) {
    assert.equal(call(name), ALLOW, name);
  }
  for (const name of ["keyctl", "unshare", "mount", "name_to_handle_at", "kexec_load"]) {
    assert.equal(call(name), EPERM, name);
  }
  assert.equal(call("clone3"), ENOSYS);
  assert.equal(call("clone", CLONE_THREAD_FLAGS), ALLOW);
  assert.equal(call("clone", CLONE_THREAD_FLAGS | CLONE_NEWUSER), EPERM);
  assert.equal(call("socket", 2n), ALLOW);
  assert.equal(call("socket", 40n), EPERM);
  assert.notEqual(syscallNumber("keyctl", "i386"), nr("keyctl"), "the numbers differ");
  assert.equal(run(prog, nr("read") | 0x40000000), EPERM, "x32 calls get the default");
  assert.equal(run(prog, nr("read"), [], 0xc00000b7), 0x80000000, "aarch64 is killed");
});

/** What a profile answers for a call, read straight from its rules (the reference). */
function reference(profile: Seccomp, arch: SyscallArch, n: number, args: bigint[]): number {
  const holds = (a: SeccompArg) => {
    const v = args[a.index] ?? 0n;
    const x = BigInt(a.value);
    switch (a.op) {
      case "SCMP_CMP_EQ":
        return v === x;
      case "SCMP_CMP_NE":
        return v !== x;
      case "SCMP_CMP_LT":
        return v < x;
      case "SCMP_CMP_MASKED_EQ":
        return (v & x) === BigInt(a.valueTwo ?? 0);
      default:
        throw new Error(a.op);
    }
  };
  for (const rule of profile.syscalls ?? []) {
    if (!rule.names.some((name) => syscallNumber(name, arch) === n)) continue;
    if ((rule.args ?? []).every(holds)) {
      return actionValue(rule.action, rule.errnoRet ?? profile.defaultErrnoRet) >>> 0;
    }
  }
  return actionValue(profile.defaultAction, profile.defaultErrnoRet) >>> 0;
}

Deno.test("compileSeccomp() answers every call of Docker's profile as the profile's rules read", () => {
  const argSets: bigint[][] = [[], [0n], [2n], [8n], [40n], [0x40000n], [0xffffffffn], [
    CLONE_THREAD_FLAGS | CLONE_NEWUSER,
  ], [CLONE_THREAD_FLAGS]];
  for (const caps of [DEFAULT_CAPABILITIES, [...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"], []]) {
    const profile = dockerDefaultSeccomp(caps, "6.1");
    const prog = compileSeccomp(profile);
    for (const [arch, audit] of [["x86_64", 0xc000003e], ["i386", 0x40000003]] as const) {
      for (let n = 0; n < 480; n++) {
        for (const args of argSets) {
          assert.equal(
            run(prog, n, args, audit),
            reference(profile, arch, n, args),
            `${arch} ${n} (${args}) with ${caps.length} caps`,
          );
        }
      }
    }
  }
});
