import assert from "node:assert/strict";
import { DEFAULT_CAPABILITIES } from "./default_spec.ts";
import { seccompFromDockerProfile } from "./seccomp_profile.ts";
import { dockerDefaultSeccomp } from "./seccomp_default.ts";

const profile = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 1,
  syscalls: [
    { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
    { name: "arch_prctl", action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64", "x32"] } },
    { names: ["cacheflush"], action: "SCMP_ACT_ALLOW", includes: { arches: ["arm"] } },
    {
      names: ["mount", "unshare"],
      action: "SCMP_ACT_ALLOW",
      includes: { caps: ["CAP_SYS_ADMIN"] },
    },
    {
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      excludes: { caps: ["CAP_SYS_ADMIN"] },
      args: [{ index: 0, value: 2114060288, op: "SCMP_CMP_MASKED_EQ" }],
    },
    { names: ["new_in_99"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "99.0" } },
    { names: ["ptrace"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "4.8" } },
  ],
};

Deno.test("seccompFromDockerProfile() keeps the entries whose includes hold for amd64 and the caps", () => {
  const sc = seccompFromDockerProfile(profile, DEFAULT_CAPABILITIES, "6.1.0");
  assert.equal(sc.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(sc.defaultErrnoRet, 1);
  assert.deepEqual(sc.syscalls!.map((s) => s.names.join(",")), [
    "read,write",
    "arch_prctl",
    "clone",
    "ptrace",
  ]);
  assert.deepEqual(sc.syscalls![2]!.args, [{
    index: 0,
    value: 2114060288,
    valueTwo: 0,
    op: "SCMP_CMP_MASKED_EQ",
  }]);
});

Deno.test("seccompFromDockerProfile() follows --cap-add: CAP_SYS_ADMIN allows mount, drops the clone condition", () => {
  const sc = seccompFromDockerProfile(profile, [...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"], "6.1.0");
  assert.deepEqual(sc.syscalls!.map((s) => s.names.join(",")), [
    "read,write",
    "arch_prctl",
    "mount,unshare",
    "ptrace",
  ]);
  assert.throws(() => seccompFromDockerProfile({}, []), /"defaultAction"/);
});

const SYSTEM_PROFILE = "/usr/share/containers/seccomp.json";
const hasSystemProfile = (() => {
  try {
    return Deno.statSync(SYSTEM_PROFILE).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "seccompFromDockerProfile() reads the containers-common profile",
  ignore: !hasSystemProfile,
}, () => {
  const sc = seccompFromDockerProfile(
    JSON.parse(Deno.readTextFileSync(SYSTEM_PROFILE)),
    DEFAULT_CAPABILITIES,
  );
  const allowed = new Set(
    sc.syscalls!.filter((s) => s.action === "SCMP_ACT_ALLOW" && !s.args).flatMap((s) => s.names),
  );
  for (const name of ["read", "execve", "clone", "futex"]) assert.ok(allowed.has(name), name);
  assert.ok(!allowed.has("bpf") && !allowed.has("kexec_load"));
});

Deno.test("dockerDefaultSeccomp() resolves Docker's entries for the capabilities and kernel", () => {
  const names = (sc: ReturnType<typeof dockerDefaultSeccomp>) =>
    sc.syscalls!.map((s) => `${s.names[0]}:${s.action}${s.errnoRet ? `(${s.errnoRet})` : ""}`);
  const plain = dockerDefaultSeccomp(DEFAULT_CAPABILITIES, "6.1.0-13-amd64");
  assert.equal(plain.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(plain.defaultErrnoRet, 1);
  const entries = names(plain);
  assert.equal(entries[0], "accept:SCMP_ACT_ALLOW", "the allowlist comes first");
  assert.ok(entries.includes("clone:SCMP_ACT_ALLOW"), "clone without namespace flags");
  assert.ok(entries.includes("clone3:SCMP_ACT_ERRNO(38)"));
  assert.ok(entries.includes("chroot:SCMP_ACT_ALLOW"), "CAP_SYS_CHROOT is a default");
  assert.ok(!entries.includes("bpf:SCMP_ACT_ALLOW") && !entries.includes("reboot:SCMP_ACT_ALLOW"));
  assert.equal(plain.syscalls!.filter((s) => s.names[0] === "socket").length, 26);
  const allowed = plain.syscalls![0]!.names;
  for (const n of ["keyctl", "add_key", "request_key", "name_to_handle_at", "io_uring_setup"]) {
    assert.ok(!allowed.includes(n), `${n} is not in the allowlist`);
  }

  const admin = names(dockerDefaultSeccomp([...DEFAULT_CAPABILITIES, "SYS_ADMIN"], "6.1"));
  assert.ok(admin.includes("bpf:SCMP_ACT_ALLOW"), "the CAP_SYS_ADMIN entry");
  assert.ok(!admin.includes("clone3:SCMP_ACT_ERRNO(38)"), "no ENOSYS entry with CAP_SYS_ADMIN");
  assert.equal(admin.filter((e) => e.startsWith("clone:")).length, 0, "no clone condition");

  const old = names(dockerDefaultSeccomp(DEFAULT_CAPABILITIES, "4.4.0"));
  assert.ok(!old.includes("process_vm_readv:SCMP_ACT_ALLOW"), "minKernel 4.8");
  assert.ok(names(plain).includes("process_vm_readv:SCMP_ACT_ALLOW"));
});
