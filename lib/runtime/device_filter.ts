/**
 * Compiles `linux.resources.devices` rules into the eBPF program that
 * cgroup v2 uses for device access (as runc's devicefilter does). Rules are
 * checked last to first; the first that matches decides; none: deny.
 *
 * @module
 */
import type { Insn } from "../../ffi/bpf.ts";
import type { DeviceRule } from "./spec.ts";

const LDX_W = 0x61; // r_dst = *(u32 *)(r_src + off)
const MOV64_REG = 0xbf;
const MOV64_IMM = 0xb7;
const AND64_IMM = 0x57;
const RSH64_IMM = 0x77;
const JNE_IMM = 0x55;
const EXIT = 0x95;

const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** bpf_cgroup_dev_ctx: access_type = type | access << 16, then major, minor. */
const PROLOGUE: Insn[] = [
  ins(LDX_W, 2, 1, 0, 0),
  ins(MOV64_REG, 3, 2, 0, 0),
  ins(AND64_IMM, 3, 0, 0, 0xffff), // r3: 1 block, 2 char
  ins(MOV64_REG, 4, 2, 0, 0),
  ins(RSH64_IMM, 4, 0, 0, 16), // r4: 1 mknod, 2 read, 4 write
  ins(LDX_W, 5, 1, 4, 0), // r5: major
  ins(LDX_W, 6, 1, 8, 0), // r6: minor
];

const accessMask = (access: string) =>
  (access.includes("m") ? 1 : 0) | (access.includes("r") ? 2 : 0) | (access.includes("w") ? 4 : 0);

function ruleBlock(rule: DeviceRule): Insn[] {
  const checks: Insn[] = [];
  const type = rule.type ?? "a";
  if (type !== "a") checks.push(ins(JNE_IMM, 3, 0, 0, type === "b" ? 1 : 2));
  const mask = accessMask(rule.access ?? "rwm");
  if (mask !== 7) {
    checks.push(
      ins(MOV64_REG, 7, 4, 0, 0),
      ins(AND64_IMM, 7, 0, 0, ~mask & 7),
      ins(JNE_IMM, 7, 0, 0, 0),
    );
  }
  if (rule.major !== undefined && rule.major >= 0) checks.push(ins(JNE_IMM, 5, 0, 0, rule.major));
  if (rule.minor !== undefined && rule.minor >= 0) checks.push(ins(JNE_IMM, 6, 0, 0, rule.minor));
  const block = [...checks, ins(MOV64_IMM, 0, 0, 0, rule.allow ? 1 : 0), ins(EXIT, 0, 0, 0, 0)];
  // Each failed check jumps past the rest of this block.
  return block.map((insn, i) =>
    insn.code === JNE_IMM ? { ...insn, off: block.length - i - 1 } : insn
  );
}

const chr = (major: number, minor: number): DeviceRule => ({
  allow: true,
  type: "c",
  major,
  minor,
  access: "rwm",
});

/**
 * The devices the runtime itself supplies (as runc's AllowedDevices): mknod
 * of any node, then null, zero, full, random, urandom, tty, ptmx, the
 * container's ptys and tun.
 */
export const RUNTIME_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: true, type: "c", access: "m" },
  { allow: true, type: "b", access: "m" },
  chr(1, 3),
  chr(1, 5),
  chr(1, 7),
  chr(1, 8),
  chr(1, 9),
  chr(5, 0),
  chr(5, 2),
  chr(136, -1),
  chr(10, 200),
];

const sameRule = (a: DeviceRule, b: DeviceRule) =>
  a.allow === b.allow && (a.type ?? "a") === (b.type ?? "a") &&
  (a.major ?? -1) === (b.major ?? -1) && (a.minor ?? -1) === (b.minor ?? -1) &&
  accessMask(a.access ?? "rwm") === accessMask(b.access ?? "rwm");

/**
 * The spec's `linux.resources.devices` followed by {@linkcode RUNTIME_DEVICE_RULES},
 * as runc applies them, so that the runtime's own device nodes can be made
 * and used under any rules. A default rule is left out when the same rule
 * already comes after the spec's last deny (Docker's specs have them all), so
 * it would change nothing. No rules: nothing to filter, none added.
 */
export function withRuntimeDevices(rules: readonly DeviceRule[] | undefined): DeviceRule[] {
  if (rules === undefined || rules.length === 0) return [];
  const lastDeny = rules.findLastIndex((r) => !r.allow);
  const tail = rules.slice(lastDeny + 1);
  return [...rules, ...RUNTIME_DEVICE_RULES.filter((d) => !tail.some((r) => sameRule(r, d)))];
}

/** The program for `rules`. */
export function deviceFilter(rules: readonly DeviceRule[]): Insn[] {
  const out = [...PROLOGUE];
  for (const rule of [...rules].reverse()) {
    const block = ruleBlock(rule);
    out.push(...block);
    // A rule that matches everything ends the program (the verifier rejects unreachable code).
    if (block.length === 2) return out;
  }
  return [...out, ins(MOV64_IMM, 0, 0, 0, 0), ins(EXIT, 0, 0, 0, 0)];
}
