/**
 * Devices: compiles `linux.resources.devices` rules into the eBPF program
 * that cgroup v2 uses for device access (as runc's devicefilter does; rules
 * are checked last to first, the first that matches decides, none: deny),
 * adds the runtime's own devices to the rules, and lists the host's device
 * nodes (what a privileged container gets).
 *
 * @module
 */
import type { Insn } from "../../ffi/bpf.ts";
import type { DeviceRule, Linux } from "./spec.ts";

/** A `linux.devices` entry. */
export type LinuxDevice = NonNullable<Linux["devices"]>[number];

/** What a host device walk leaves out, as Docker's (runc's HostDevices) does. */
const SKIP_DIRS = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);

/**
 * The character and block devices under the host's `dir` (sub-directories
 * too, but not pts, shm, mqueue, ...; no console), with their numbers, mode
 * and owner: the `linux.devices` of Docker's `--privileged`.
 */
export function hostDevices(dir = "/dev"): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  const walk = (at: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(at)];
    } catch {
      return;
    }
    for (const e of entries) {
      const path = `${at}/${e.name}`;
      if (e.isDirectory) {
        if (!SKIP_DIRS.has(e.name)) walk(path);
        continue;
      }
      if (e.isSymlink || e.name === "console") continue;
      let st: Deno.FileInfo;
      try {
        st = Deno.lstatSync(path);
      } catch {
        continue; // gone meanwhile
      }
      if ((!st.isCharDevice && !st.isBlockDevice) || st.rdev === null) continue;
      const dev = st.rdev;
      const high = Math.floor(dev / 2 ** 32);
      out.push({
        path,
        type: st.isBlockDevice ? "b" : "c",
        // glibc's gnu_dev_major/gnu_dev_minor
        major: ((dev >>> 8) & 0xfff) | ((high & ~0xfff) >>> 0),
        minor: ((dev & 0xff) | ((dev >>> 12) & 0xfff00) | ((high & 0xfff) << 20)) >>> 0,
        fileMode: (st.mode ?? 0o600) & 0o7777,
        uid: st.uid ?? 0,
        gid: st.gid ?? 0,
      });
    }
  };
  walk(dir.replace(/\/+$/, ""));
  return out;
}

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

const any = (n: number | undefined) => n === undefined || n < 0;

/** Whether allow rule `r` grants all that `d` does. */
const covers = (r: DeviceRule, d: DeviceRule) =>
  r.allow && ((r.type ?? "a") === "a" || r.type === d.type) &&
  (any(r.major) || r.major === d.major) && (any(r.minor) || r.minor === d.minor) &&
  (accessMask(d.access ?? "rwm") & ~accessMask(r.access ?? "rwm")) === 0;

/**
 * The spec's `linux.resources.devices` followed by {@linkcode RUNTIME_DEVICE_RULES},
 * as runc applies them, so that the runtime's own device nodes can be made
 * and used under any rules. A default rule is left out when an allow after
 * the spec's last deny already grants it (Docker's specs grant them all), as
 * it would change nothing. No rules: nothing to filter, none added.
 */
export function withRuntimeDevices(rules: readonly DeviceRule[] | undefined): DeviceRule[] {
  if (rules === undefined || rules.length === 0) return [];
  const tail = rules.slice(rules.findLastIndex((r) => !r.allow) + 1);
  return [...rules, ...RUNTIME_DEVICE_RULES.filter((d) => !tail.some((r) => covers(r, d)))];
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
