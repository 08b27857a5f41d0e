import assert from "node:assert/strict";
import type { Insn } from "../../ffi/bpf.ts";
import type { DeviceRule } from "./spec.ts";
import { DEFAULT_DEVICE_RULES } from "./default_spec.ts";
import { deviceFilter, RUNTIME_DEVICE_RULES, withRuntimeDevices } from "./device_filter.ts";

/** Runs the (jump-forward only) subset of eBPF that deviceFilter emits. */
function run(
  prog: readonly Insn[],
  type: "b" | "c",
  access: string,
  major: number,
  minor: number,
): number {
  const mask = (access.includes("m") ? 1 : 0) | (access.includes("r") ? 2 : 0) |
    (access.includes("w") ? 4 : 0);
  const ctx = [(type === "b" ? 1 : 2) | (mask << 16), major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, dst, src, off, imm } = prog[pc]!;
    if (code === 0x61) r[dst] = ctx[off / 4]!;
    else if (code === 0xbf) r[dst] = r[src]!;
    else if (code === 0xb7) r[dst] = imm;
    else if (code === 0x57) r[dst] = r[dst]! & imm;
    else if (code === 0x77) r[dst] = r[dst]! >>> imm;
    else if (code === 0x55) pc += r[dst] !== imm ? off : 0;
    else if (code === 0x95) return r[0]!;
    else throw new Error(`opcode ${code}`);
  }
  throw new Error("fell off the end");
}

Deno.test("deviceFilter() allows Docker's devices and mknod, denies the rest", () => {
  const prog = deviceFilter(DEFAULT_DEVICE_RULES);
  const cases: [Parameters<typeof run>[1], string, number, number, number][] = [
    ["c", "rw", 1, 3, 1], // null
    ["c", "rwm", 1, 9, 1], // urandom
    ["c", "rw", 136, 7, 1], // pts/7
    ["c", "rw", 5, 2, 1], // ptmx
    ["b", "m", 8, 0, 1], // mknod of a disk
    ["b", "r", 8, 0, 0], // reading it
    ["c", "r", 1, 1, 0], // /dev/mem
    ["c", "w", 4, 1, 0], // tty1
  ];
  for (const [type, access, major, minor, want] of cases) {
    assert.equal(
      run(prog, type, access, major, minor),
      want,
      `${type} ${major}:${minor} ${access}`,
    );
  }
});

Deno.test("deviceFilter() lets later rules win and denies by default", () => {
  const allowAll = deviceFilter([{ allow: true }]);
  assert.equal(run(allowAll, "b", "rw", 8, 0), 1);
  assert.equal(allowAll.length, 9, "an unconditional rule ends the program");
  const some = deviceFilter([{ allow: true, type: "c", major: 1, access: "r" }, {
    allow: false,
    type: "c",
    major: 1,
    minor: 5,
  }]);
  assert.equal(run(some, "c", "r", 1, 3), 1);
  assert.equal(run(some, "c", "r", 1, 5), 0);
  assert.equal(run(some, "c", "w", 1, 3), 0);
  assert.equal(run(some, "b", "r", 1, 3), 0);
});

Deno.test("withRuntimeDevices() appends the runtime's devices after the spec's rules", () => {
  const denyAll = [{ allow: false, access: "rwm" }];
  const all = withRuntimeDevices(denyAll);
  assert.deepEqual(all, [...denyAll, ...RUNTIME_DEVICE_RULES]);
  const prog = deviceFilter(all);
  assert.equal(run(prog, "c", "rw", 1, 3), 1, "/dev/null usable");
  assert.equal(run(prog, "b", "m", 8, 0), 1, "any node may be made");
  assert.equal(run(prog, "b", "r", 8, 0), 0, "a disk is not readable");
  assert.equal(run(prog, "c", "r", 10, 237), 0);
});

Deno.test("withRuntimeDevices() adds nothing to Docker's rules, nor to no rules", () => {
  assert.deepEqual(withRuntimeDevices(DEFAULT_DEVICE_RULES), [...DEFAULT_DEVICE_RULES]);
  assert.deepEqual(withRuntimeDevices(undefined), []);
  assert.deepEqual(withRuntimeDevices([]), []);
  // A deny after Docker's allows: the runtime's nodes come back after it.
  const denyNull: DeviceRule[] = [
    ...DEFAULT_DEVICE_RULES,
    { allow: false, type: "c", major: 1, minor: 3 },
  ];
  assert.equal(withRuntimeDevices(denyNull).length, denyNull.length + RUNTIME_DEVICE_RULES.length);
});

Deno.test("withRuntimeDevices() adds nothing after an allow-all (privileged)", () => {
  const all: DeviceRule[] = [{ allow: true, access: "rwm" }];
  assert.deepEqual(withRuntimeDevices(all), all);
  const some: DeviceRule[] = [{ allow: true, type: "c", access: "rwm" }];
  assert.deepEqual(withRuntimeDevices(some), [...some, ...RUNTIME_DEVICE_RULES.slice(1, 2)]);
});
