/**
 * seccomp(2) filters: install a classic-BPF program on the calling thread
 * with prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER). execve(2) keeps it.
 *
 * @module
 */
import { libc, syscallError } from "./libc.ts";

const PR_SET_SECCOMP = 22;
const SECCOMP_MODE_FILTER = 2n;

/** One classic-BPF instruction (struct sock_filter). */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** A filter encoded as struct sock_fprog, ready for {@linkcode installSeccompProgram}. */
export interface SeccompProgram {
  /** struct sock_fprog: the length and a pointer into `code`. */
  fprog: Uint8Array<ArrayBuffer>;
  /** The instructions `fprog` points to, kept alive with it. */
  code: Uint8Array<ArrayBuffer>;
  /** The address of `fprog`, as prctl(2) takes it. */
  address: bigint;
}

/** Encodes `program` ahead of installing it, so that installing allocates nothing. */
export function encodeSeccomp(program: readonly SockFilter[]): SeccompProgram {
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
  return { fprog, code, address: BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(fprog))) };
}

/**
 * Installs an encoded filter on the calling thread; allocates nothing unless
 * it fails. Needs no_new_privs or CAP_SYS_ADMIN.
 * @throws {SyscallError}
 */
export function installSeccompProgram(program: SeccompProgram): void {
  if (libc().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, program.address, 0n, 0n) !== 0) {
    throw syscallError("prctl(PR_SET_SECCOMP)");
  }
}

/**
 * Installs `program` as a seccomp filter of the calling thread. Needs
 * no_new_privs or CAP_SYS_ADMIN.
 * @throws {SyscallError}
 */
export function installSeccomp(program: readonly SockFilter[]): void {
  installSeccompProgram(encodeSeccomp(program));
}

/** `program` as numbers (code, jt, jf, k each), to send in JSON. */
export function flattenFilter(program: readonly SockFilter[]): number[] {
  return program.flatMap((i) => [i.code, i.jt, i.jf, i.k]);
}

/** The inverse of {@linkcode flattenFilter}. */
export function unflattenFilter(flat: readonly number[]): SockFilter[] {
  const out: SockFilter[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    out.push({ code: flat[i]!, jt: flat[i + 1]!, jf: flat[i + 2]!, k: flat[i + 3]! });
  }
  return out;
}
