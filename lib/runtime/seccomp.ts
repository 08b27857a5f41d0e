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
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_BIT = 0x40000000;
const EPERM = 1;

/** A jump target inside a rule block: a count, or "fail" (the block's reload). */
type Jump = number | "fail";
interface Op {
  code: number;
  jt: Jump;
  jf: Jump;
  k: number;
}

const op = (code: number, k: number, jt: Jump = 0, jf: Jump = 0): Op => ({ code, jt, jf, k });

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

/** Instructions that fall through when argument `a` holds, else jump to "fail". */
function argCheck(a: SeccompArg): Op[] {
  const lo = 16 + 8 * a.index;
  const hi = lo + 4;
  const split = (v: number) => [Number(BigInt(v) & 0xffffffffn), Number(BigInt(v) >> 32n)] as const;
  const [vLo, vHi] = split(a.value);
  switch (a.op) {
    case "SCMP_CMP_EQ":
      return [op(LD_ABS, hi), op(JEQ, vHi, 0, "fail"), op(LD_ABS, lo), op(JEQ, vLo, 0, "fail")];
    case "SCMP_CMP_NE":
      return [op(LD_ABS, hi), op(JEQ, vHi, 0, 2), op(LD_ABS, lo), op(JEQ, vLo, "fail", 0)];
    case "SCMP_CMP_MASKED_EQ": {
      const [wLo, wHi] = split(a.valueTwo ?? 0);
      return [
        op(LD_ABS, hi),
        op(AND, vHi),
        op(JEQ, wHi, 0, "fail"),
        op(LD_ABS, lo),
        op(AND, vLo),
        op(JEQ, wLo, 0, "fail"),
      ];
    }
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE":
      return [
        op(LD_ABS, hi),
        op(JGT, vHi, 3, 0),
        op(JEQ, vHi, 0, "fail"),
        op(LD_ABS, lo),
        op(a.op === "SCMP_CMP_GT" ? JGT : JGE, vLo, 0, "fail"),
      ];
    case "SCMP_CMP_LT":
    case "SCMP_CMP_LE":
      return [
        op(LD_ABS, hi),
        op(JGT, vHi, "fail", 0),
        op(JEQ, vHi, 0, 2),
        op(LD_ABS, lo),
        op(a.op === "SCMP_CMP_LT" ? JGE : JGT, vLo, "fail", 0),
      ];
    default:
      throw new InvalidError(`Invalid config.json: seccomp operator "${a.op}" is not supported`);
  }
}

const resolve = (ops: Op[], failAt: number): SockFilter[] =>
  ops.map((o, i) => {
    const at = (j: Jump) => (j === "fail" ? failAt - i - 1 : j);
    return { code: o.code, jt: at(o.jt), jf: at(o.jf), k: o.k };
  });

/**
 * Compiles a profile. Syscall names this architecture lacks are skipped.
 * @throws {InvalidError} on an unsupported action or operator
 */
export function compileSeccomp(profile: Seccomp): SockFilter[] {
  const fallback = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const out: SockFilter[] = [
    { code: LD_ABS, jt: 0, jf: 0, k: 4 },
    { code: JEQ, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 },
    { code: RET, jt: 0, jf: 0, k: 0x80000000 },
    { code: LD_ABS, jt: 0, jf: 0, k: 0 },
    // x32 system calls share the arch value but set bit 30: the default for them.
    { code: JGE, jt: 0, jf: 1, k: X32_BIT },
    { code: RET, jt: 0, jf: 0, k: fallback },
  ];
  for (const rule of profile.syscalls ?? []) {
    const ret = actionValue(rule.action, rule.errnoRet ?? profile.defaultErrnoRet);
    const nrs = rule.names.map(syscallNumber).filter((n): n is number => n !== undefined);
    if ((rule.args ?? []).length === 0) {
      // Up to 200 numbers share one return (jump offsets are 8 bits).
      for (let at = 0; at < nrs.length; at += 200) {
        const chunk = nrs.slice(at, at + 200);
        chunk.forEach((nr, i) =>
          out.push({
            code: JEQ,
            jt: chunk.length - 1 - i,
            jf: i === chunk.length - 1 ? 1 : 0,
            k: nr,
          })
        );
        out.push({ code: RET, jt: 0, jf: 0, k: ret });
      }
      continue;
    }
    const checks = rule.args!.flatMap(argCheck);
    for (const nr of nrs) {
      // jeq nr | checks... | ret | ld nr (where a failed check lands; A was overwritten)
      out.push({ code: JEQ, jt: 0, jf: checks.length + 2, k: nr });
      out.push(...resolve(checks, checks.length + 1));
      out.push({ code: RET, jt: 0, jf: 0, k: ret }, { code: LD_ABS, jt: 0, jf: 0, k: 0 });
    }
  }
  out.push({ code: RET, jt: 0, jf: 0, k: fallback });
  return out;
}
