import assert from "node:assert/strict";
import type { SockFilter } from "../../ffi/seccomp.ts";
import { syscallNumber } from "../../ffi/syscall_numbers.ts";
import { InvalidError } from "../errors.ts";
import { compileSeccomp } from "./seccomp.ts";

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

Deno.test("compileSeccomp() splits a rule of more than 200 names (8-bit jumps)", () => {
  const real = ["read", "write", "openat", "close", "execve", "exit_group", "futex", "mmap"];
  const names = Array.from({ length: 60 }, () => real).flat();
  const prog = compileSeccomp({
    defaultAction: "SCMP_ACT_KILL",
    syscalls: [{ names, action: "SCMP_ACT_ALLOW" }],
  });
  assert.ok(prog.filter((i) => i.code === 0x06).length >= 3, "several returns");
  assert.ok(prog.every((i) => i.jt < 256 && i.jf < 256));
  for (const name of real) assert.equal(run(prog, nr(name)), ALLOW, name);
  assert.equal(run(prog, nr("kill")), 0);
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
