/**
 * Compiles `linux.seccomp` (the OCI form of a profile such as Docker's) into
 * a classic-BPF seccomp filter for x86-64 (and its i386 programs): rules are
 * tried in order and the first whose syscall and argument conditions match
 * gives the action; otherwise the default action.
 *
 * @see https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#seccomp
 * @module
 */
import type { SockFilter } from "../../ffi/seccomp.ts";
import { type SyscallArch, syscallTable } from "../../ffi/syscall_numbers.ts";
import { InvalidError } from "../errors.ts";
import type { Seccomp, SeccompArg } from "./spec.ts";

const LD_ABS = 0x20;
const JEQ = 0x15;
const JGT = 0x25;
const JGE = 0x35;
const AND = 0x54;
const RET = 0x06;
const JA = 0x05;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_I386 = 0x40000003;
const X32_BIT = 0x40000000;
const EPERM = 1;

/** The filter's return value for an OCI action name. */
export function actionValue(action: string, errnoRet: number | undefined): number {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return 0x7fff0000;
    case "SCMP_ACT_ERRNO":
      return 0x00050000 | ((errnoRet ?? EPERM) & 0xffff);
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return 0;
    case "SCMP_ACT_KILL_PROCESS":
      return 0x80000000;
    case "SCMP_ACT_TRAP":
      return 0x00030000;
    case "SCMP_ACT_TRACE":
      return 0x7ff00000 | ((errnoRet ?? 0) & 0xffff);
    case "SCMP_ACT_LOG":
      return 0x7ffc0000;
    default:
      throw new InvalidError(`Invalid config.json: seccomp action "${action}" is not supported`);
  }
}

/** The high 32-bit word of a (non-negative or two's complement) 64-bit value. */
const hiWord = (v: number): number => Math.floor(v / 0x100000000) >>> 0;

/**
 * How many instructions `argCheck` emits for a condition.
 * @throws {InvalidError} for an operator it does not support
 */
function checkLength(a: SeccompArg): number {
  switch (a.op) {
    case "SCMP_CMP_EQ":
    case "SCMP_CMP_NE":
      return 4;
    case "SCMP_CMP_MASKED_EQ":
      return 6;
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE":
    case "SCMP_CMP_LT":
    case "SCMP_CMP_LE":
      return 5;
    default:
      throw new InvalidError(`Invalid config.json: seccomp operator "${a.op}" is not supported`);
  }
}

/** A jump to the condition's failure target, in `argCheck`. */
const FAIL = -1;

/** Appends one instruction whose FAIL jumps go to instruction `fail` of `out`. */
function emit(out: SockFilter[], fail: number, code: number, k: number, jt: number, jf: number) {
  const next = out.length + 1; // jump offsets count from the next instruction
  out.push({ code, jt: jt === FAIL ? fail - next : jt, jf: jf === FAIL ? fail - next : jf, k });
}

/**
 * Appends instructions that fall through when argument `a` holds and jump
 * to `fail` (an index in `out`) when it does not; A is clobbered. Plain
 * calls, no tables: init runs this cold on every container start.
 */
function argCheck(a: SeccompArg, out: SockFilter[], fail: number): void {
  const lo = 16 + 8 * a.index;
  const hi = lo + 4;
  const vLo = a.value >>> 0;
  const vHi = hiWord(a.value);
  switch (a.op) {
    case "SCMP_CMP_EQ":
      emit(out, fail, LD_ABS, hi, 0, 0);
      emit(out, fail, JEQ, vHi, 0, FAIL);
      emit(out, fail, LD_ABS, lo, 0, 0);
      emit(out, fail, JEQ, vLo, 0, FAIL);
      return;
    case "SCMP_CMP_NE":
      emit(out, fail, LD_ABS, hi, 0, 0);
      emit(out, fail, JEQ, vHi, 0, 2);
      emit(out, fail, LD_ABS, lo, 0, 0);
      emit(out, fail, JEQ, vLo, FAIL, 0);
      return;
    case "SCMP_CMP_MASKED_EQ": {
      const w = a.valueTwo ?? 0;
      emit(out, fail, LD_ABS, hi, 0, 0);
      emit(out, fail, AND, vHi, 0, 0);
      emit(out, fail, JEQ, hiWord(w), 0, FAIL);
      emit(out, fail, LD_ABS, lo, 0, 0);
      emit(out, fail, AND, vLo, 0, 0);
      emit(out, fail, JEQ, w >>> 0, 0, FAIL);
      return;
    }
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE":
      emit(out, fail, LD_ABS, hi, 0, 0);
      emit(out, fail, JGT, vHi, 3, 0);
      emit(out, fail, JEQ, vHi, 0, FAIL);
      emit(out, fail, LD_ABS, lo, 0, 0);
      emit(out, fail, a.op === "SCMP_CMP_GT" ? JGT : JGE, vLo, 0, FAIL);
      return;
    default: // SCMP_CMP_LT, SCMP_CMP_LE (checkLength vetted the operator)
      emit(out, fail, LD_ABS, hi, 0, 0);
      emit(out, fail, JGT, vHi, FAIL, 0);
      emit(out, fail, JEQ, vHi, 0, 2);
      emit(out, fail, LD_ABS, lo, 0, 0);
      emit(out, fail, a.op === "SCMP_CMP_LT" ? JGE : JGT, vLo, FAIL, 0);
  }
}

/** A rule as it applies to one system call: its return value and argument conditions. */
interface CallRule {
  ret: number;
  args: readonly SeccompArg[];
  /** Instructions of the conditions. */
  length: number;
}

/** One call's block: each rule's checks then its return; a failed check tries the next rule. */
function callBlock(rules: CallRule[], fallback: number): SockFilter[] {
  const out: SockFilter[] = [];
  for (const { ret, args, length } of rules) {
    const fail = out.length + length + 1;
    for (const a of args) argCheck(a, out, fail);
    out.push({ code: RET, jt: 0, jf: 0, k: ret });
  }
  if (rules[rules.length - 1]!.length > 0) out.push({ code: RET, jt: 0, jf: 0, k: fallback });
  return out;
}

/** Highest system call number plus one, with room to spare (x86-64 and i386 end at 466). */
const NR_LIMIT = 1024;
const DECIDED = 1;
const CONDITIONAL = 2;

/** A compiled rule as the section builder needs it. */
interface Compiled {
  names: readonly string[];
  entry: CallRule;
}

/**
 * The program for one architecture, entered with its number in A: rules of
 * different calls never meet, so it groups them by call and keeps the
 * profile's first-match order within each. Calls decided by their number
 * alone are checked as runs of consecutive numbers with one return; a call
 * with argument conditions gets its own block, entered once. Names the
 * architecture lacks are skipped.
 */
function section(rules: readonly Compiled[], arch: SyscallArch, fallback: number): SockFilter[] {
  const table = syscallTable(arch);
  // per call number: DECIDED once a rule without conditions decided it (its
  // return in `decided`), CONDITIONAL while only rules with conditions did
  const state = new Uint8Array(NR_LIMIT);
  const decided = new Uint32Array(NR_LIMIT);
  const conditional = new Map<number, CallRule[]>();
  let top = 0;
  // Indexed loops: cold, for-of's iterator calls cost more than the work.
  for (let r = 0; r < rules.length; r++) {
    const { names, entry } = rules[r]!;
    for (let i = 0; i < names.length; i++) {
      const nr = table.get(names[i]!);
      if (nr === undefined || state[nr] === DECIDED) continue;
      if (state[nr] === CONDITIONAL) {
        conditional.get(nr)!.push(entry);
        if (entry.length === 0) state[nr] = DECIDED;
      } else if (entry.length > 0) {
        conditional.set(nr, [entry]);
        state[nr] = CONDITIONAL;
      } else {
        decided[nr] = entry.ret;
        state[nr] = DECIDED;
        if (nr > top) top = nr;
      }
    }
  }
  const out: SockFilter[] = [{ code: LD_ABS, jt: 0, jf: 0, k: 0 }];
  if (arch === "x86_64") {
    // x32 system calls share the arch value but set bit 30: the default for them.
    out.push({ code: JGE, jt: 0, jf: 1, k: X32_BIT }, { code: RET, jt: 0, jf: 0, k: fallback });
  }
  // Runs of consecutive numbers with one return become one range check.
  for (let lo = 0; lo <= top; lo++) {
    if (state[lo] !== DECIDED || conditional.has(lo)) continue;
    const ret = decided[lo]!;
    let hi = lo;
    while (
      hi < top && state[hi + 1] === DECIDED && decided[hi + 1] === ret && !conditional.has(hi + 1)
    ) hi++;
    if (hi === lo) {
      out.push({ code: JEQ, jt: 0, jf: 1, k: lo });
    } else {
      out.push({ code: JGE, jt: 0, jf: 2, k: lo }, { code: JGT, jt: 1, jf: 0, k: hi });
    }
    out.push({ code: RET, jt: 0, jf: 0, k: ret });
    lo = hi;
  }
  for (const [nr, rules] of conditional) {
    const block = callBlock(rules, fallback);
    if (block.length <= 255) {
      out.push({ code: JEQ, jt: 0, jf: block.length, k: nr });
    } else {
      // Too far for an 8-bit jump: step over the block with a 32-bit one.
      out.push({ code: JEQ, jt: 1, jf: 0, k: nr }, { code: JA, jt: 0, jf: 0, k: block.length });
    }
    for (let i = 0; i < block.length; i++) out.push(block[i]!);
  }
  out.push({ code: RET, jt: 0, jf: 0, k: fallback });
  return out;
}

/**
 * Compiles a profile for x86-64, and for i386 programs too when its
 * `architectures` lists SCMP_ARCH_X86 (as Docker's does): each has its own
 * call numbers. Any other architecture is killed; x32 calls get the default
 * action. Init compiles on every container start, cold, so this does little
 * work per name.
 * @throws {InvalidError} on an unsupported action or operator
 */
export function compileSeccomp(profile: Seccomp): SockFilter[] {
  const fallback = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const rules: Compiled[] = [];
  for (const rule of profile.syscalls ?? []) {
    const ret = actionValue(rule.action, rule.errnoRet ?? profile.defaultErrnoRet);
    const args = rule.args ?? [];
    let length = 0;
    for (const a of args) length += checkLength(a);
    rules.push({ names: rule.names, entry: { ret, args, length } });
  }
  const x86_64 = section(rules, "x86_64", fallback);
  const kill = { code: RET, jt: 0, jf: 0, k: 0x80000000 };
  if (!(profile.architectures ?? []).includes("SCMP_ARCH_X86")) {
    return [
      { code: LD_ABS, jt: 0, jf: 0, k: 4 },
      { code: JEQ, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 },
      kill,
      ...x86_64,
    ];
  }
  return [
    { code: LD_ABS, jt: 0, jf: 0, k: 4 },
    { code: JEQ, jt: 3, jf: 0, k: AUDIT_ARCH_X86_64 },
    { code: JEQ, jt: 1, jf: 0, k: AUDIT_ARCH_I386 },
    kill,
    { code: JA, jt: 0, jf: 0, k: x86_64.length },
    ...x86_64,
    ...section(rules, "i386", fallback),
  ];
}

/**
 * The filter for a container's `linux.seccomp` on this machine, compiled
 * before anything waits on it (init while its launcher works, exec's
 * launcher while its init starts).
 * @throws {InvalidError} off x86-64, or on an unsupported action or operator
 */
export function seccompFilter(profile: Seccomp): SockFilter[] {
  if (Deno.build.arch !== "x86_64") {
    throw new InvalidError(`Invalid config.json: "linux.seccomp" is supported on x86_64 only`);
  }
  return compileSeccomp(profile);
}
