import assert from "node:assert/strict";
import { DEFAULT_CAPABILITIES } from "./default_spec.ts";
import { seccompFromDockerProfile } from "./seccomp_profile.ts";

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
