/**
 * seccomp(2) filters: install a classic-BPF program on the calling thread
 * with prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER). execve(2) keeps it.
 *
 * @module
 */
import { libc, syscallError } from "./libc.ts";

const PR_SET_SECCOMP = 22;
const SECCOMP_MODE_FILTER = 2;

/** One classic-BPF instruction (struct sock_filter). */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/**
 * Installs `program` as a seccomp filter of the calling thread. Needs
 * no_new_privs or CAP_SYS_ADMIN.
 * @throws {SyscallError}
 */
export function installSeccomp(program: readonly SockFilter[]): void {
  const code = new Uint8Array(program.length * 8);
  const view = new DataView(code.buffer);
  program.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k >>> 0, true);
  });
  const fprog = new Uint8Array(16);
  const f = new DataView(fprog.buffer);
  f.setUint16(0, program.length, true);
  f.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(code))), true);
  const ptr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(fprog)));
  const r = libc().prctl(PR_SET_SECCOMP, BigInt(SECCOMP_MODE_FILTER), ptr, 0n, 0n);
  void code;
  if (r !== 0) throw syscallError("prctl(PR_SET_SECCOMP)");
}
