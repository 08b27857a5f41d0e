/**
 * Compiles `linux.seccomp` (the OCI form of a profile such as Docker's) into
 * a classic-BPF seccomp filter for x86-64: rules are tried in order and the
 * first whose syscall and argument conditions match gives the action;
 * otherwise the default action.
 *
 * @see https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#seccomp
 * @module
 */
import type { SockFilter } from "../../ffi/seccomp.ts";
import { syscallNumber } from "../../ffi/syscall_numbers.ts";
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

/** The low and high 32-bit words of a (non-negative or two's complement) 64-bit value. */
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

/** A jump to the condition's failure target, in `argCheck`'s tables. */
const FAIL = -1;

/**
 * Appends instructions that fall through when argument `a` holds and jump
 * to `fail` (an index in `out`) when it does not; A is clobbered.
 */
function argCheck(a: SeccompArg, out: SockFilter[], fail: number): void {
  const lo = 16 + 8 * a.index;
  const hi = lo + 4;
  const vLo = a.value >>> 0;
  const vHi = hiWord(a.value);
  const w = a.valueTwo ?? 0;
  // [code, k, jt, jf]; jumps count from the next instruction
  let ops: [number, number, number?, number?][];
  switch (a.op) {
    case "SCMP_CMP_EQ":
      ops = [[LD_ABS, hi], [JEQ, vHi, 0, FAIL], [LD_ABS, lo], [JEQ, vLo, 0, FAIL]];
      break;
    case "SCMP_CMP_NE":
      ops = [[LD_ABS, hi], [JEQ, vHi, 0, 2], [LD_ABS, lo], [JEQ, vLo, FAIL, 0]];
      break;
    case "SCMP_CMP_MASKED_EQ":
      ops = [
        [LD_ABS, hi],
        [AND, vHi],
        [JEQ, hiWord(w), 0, FAIL],
        [LD_ABS, lo],
        [AND, vLo],
        [JEQ, w >>> 0, 0, FAIL],
      ];
      break;
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE":
      ops = [
        [LD_ABS, hi],
        [JGT, vHi, 3, 0],
        [JEQ, vHi, 0, FAIL],
        [LD_ABS, lo],
        [a.op === "SCMP_CMP_GT" ? JGT : JGE, vLo, 0, FAIL],
      ];
      break;
    default: // SCMP_CMP_LT, SCMP_CMP_LE (checkLength vetted the operator)
      ops = [
        [LD_ABS, hi],
        [JGT, vHi, FAIL, 0],
        [JEQ, vHi, 0, 2],
        [LD_ABS, lo],
        [a.op === "SCMP_CMP_LT" ? JGE : JGT, vLo, FAIL, 0],
      ];
  }
  for (const [code, k, jt = 0, jf = 0] of ops) {
    const next = out.length + 1;
    out.push({
      code,
      jt: jt === FAIL ? fail - next : jt,
      jf: jf === FAIL ? fail - next : jf,
      k,
    });
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

/** Highest x86-64 system call number plus one, with room to spare. */
const NR_LIMIT = 1024;

/**
 * Compiles a profile. Syscall names this architecture lacks are skipped.
 * Rules of different calls never meet, so the program groups them by call
 * and keeps the profile's first-match order within each: calls decided by
 * their number alone share one return per action; a call with argument
 * conditions gets its own block, entered once. Init compiles on every
 * container start, cold, so this does little work per name.
 * @throws {InvalidError} on an unsupported action or operator
 */
export function compileSeccomp(profile: Seccomp): SockFilter[] {
  const fallback = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  // per call number: 1 once a rule without conditions decided it, 2 while it has conditional rules
  const state = new Uint8Array(NR_LIMIT);
  const simple = new Map<number, number[]>(); // return value -> call numbers
  const conditional = new Map<number, CallRule[]>();
  for (const rule of profile.syscalls ?? []) {
    const ret = actionValue(rule.action, rule.errnoRet ?? profile.defaultErrnoRet);
    const args = rule.args ?? [];
    let length = 0;
    for (const a of args) length += checkLength(a);
    const entry: CallRule = { ret, args, length };
    let nrs: number[] | undefined;
    for (const name of rule.names) {
      const nr = syscallNumber(name);
      if (nr === undefined || state[nr] === 1) continue;
      if (state[nr] === 2) {
        conditional.get(nr)!.push(entry);
      } else if (length > 0) {
        conditional.set(nr, [entry]);
      } else {
        nrs ??= simple.get(ret) ?? simple.set(ret, []).get(ret)!;
        nrs.push(nr);
      }
      state[nr] = length > 0 ? 2 : 1;
    }
  }
  const out: SockFilter[] = [
    { code: LD_ABS, jt: 0, jf: 0, k: 4 },
    { code: JEQ, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 },
    { code: RET, jt: 0, jf: 0, k: 0x80000000 },
    { code: LD_ABS, jt: 0, jf: 0, k: 0 },
    // x32 system calls share the arch value but set bit 30: the default for them.
    { code: JGE, jt: 0, jf: 1, k: X32_BIT },
    { code: RET, jt: 0, jf: 0, k: fallback },
  ];
  for (const [ret, nrs] of simple) {
    // Up to 200 numbers share one return (jump offsets are 8 bits).
    for (let at = 0; at < nrs.length; at += 200) {
      const end = Math.min(at + 200, nrs.length);
      for (let i = at; i < end; i++) {
        out.push({ code: JEQ, jt: end - 1 - i, jf: i === end - 1 ? 1 : 0, k: nrs[i]! });
      }
      out.push({ code: RET, jt: 0, jf: 0, k: ret });
    }
  }
  for (const [nr, rules] of conditional) {
    const block = callBlock(rules, fallback);
    if (block.length <= 255) {
      out.push({ code: JEQ, jt: 0, jf: block.length, k: nr });
    } else {
      // Too far for an 8-bit jump: step over the block with a 32-bit one.
      out.push({ code: JEQ, jt: 1, jf: 0, k: nr }, { code: JA, jt: 0, jf: 0, k: block.length });
    }
    for (const insn of block) out.push(insn);
  }
  out.push({ code: RET, jt: 0, jf: 0, k: fallback });
  return out;
}
