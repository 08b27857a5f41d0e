/**
 * eBPF for cgroup v2 device control: load a BPF_PROG_TYPE_CGROUP_DEVICE
 * program and attach it to a cgroup directory (what the v1 devices
 * controller did with devices.allow/deny), through bpf(2).
 *
 * @module
 */
import { cstr, libc, syscallError } from "./libc.ts";

const SYS_BPF = 321n;
const BPF_PROG_LOAD = 5n;
const BPF_PROG_ATTACH = 8n;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const O_RDONLY_DIRECTORY_CLOEXEC = 0o200000 | 0o2000000;

const ptr = (buf: Uint8Array): bigint =>
  BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));

/** One eBPF instruction. */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/**
 * Loads a cgroup device program and attaches it to the cgroup v2 directory.
 * @throws {SyscallError} with the verifier's log in the path when loading fails
 */
export function attachDeviceProgram(cgroupDir: string, insns: readonly Insn[]): void {
  const code = new Uint8Array(insns.length * 8);
  const view = new DataView(code.buffer);
  insns.forEach((insn, i) => {
    view.setUint8(i * 8, insn.code);
    view.setUint8(i * 8 + 1, (insn.src << 4) | insn.dst);
    view.setInt16(i * 8 + 2, insn.off, true);
    view.setInt32(i * 8 + 4, insn.imm, true);
  });
  const license = cstr("Apache");
  const load = (log?: Uint8Array) => {
    const attr = new Uint8Array(128);
    const a = new DataView(attr.buffer);
    a.setUint32(0, BPF_PROG_TYPE_CGROUP_DEVICE, true);
    a.setUint32(4, insns.length, true);
    a.setBigUint64(8, ptr(code), true);
    a.setBigUint64(16, ptr(license), true);
    if (log !== undefined) {
      a.setUint32(24, 1, true);
      a.setUint32(28, log.length, true);
      a.setBigUint64(32, ptr(log), true);
    }
    return Number(libc().syscall_i64(SYS_BPF, BPF_PROG_LOAD, ptr(attr), 128n, 0n, 0n));
  };
  const prog = load();
  if (prog < 0) {
    const error = syscallError("bpf(BPF_PROG_LOAD)");
    // Load again with the verifier's log, for its reason.
    const log = new Uint8Array(1 << 20);
    const again = load(log);
    if (again >= 0) libc().close(again);
    const text = new TextDecoder().decode(log.subarray(0, Math.max(0, log.indexOf(0)))).trim();
    throw text === ""
      ? error
      : syscallError("bpf(BPF_PROG_LOAD)", text.split("\n").slice(-3).join(" "), error.errno);
  }
  try {
    const dir = libc().open(cstr(cgroupDir), O_RDONLY_DIRECTORY_CLOEXEC, 0);
    if (dir < 0) throw syscallError("open", cgroupDir);
    try {
      const at = new Uint8Array(32);
      const v = new DataView(at.buffer);
      v.setUint32(0, dir, true);
      v.setUint32(4, prog, true);
      v.setUint32(8, BPF_CGROUP_DEVICE, true);
      const r = libc().syscall_i64(SYS_BPF, BPF_PROG_ATTACH, ptr(at), 32n, 0n, 0n);
      if (r !== 0n) throw syscallError("bpf(BPF_PROG_ATTACH)", cgroupDir);
    } finally {
      libc().close(dir);
    }
  } finally {
    // The attachment keeps the program alive.
    libc().close(prog);
  }
  // Keep the buffers alive until the calls have returned.
  void [code, license];
}
