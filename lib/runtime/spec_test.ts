import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import { defaultSpec } from "./default_spec.ts";
import { validateSpec } from "./spec.ts";

const valid = () => JSON.parse(JSON.stringify(defaultSpec({ args: ["sh"] })));

Deno.test("validateSpec() accepts defaultSpec()", () => {
  assert.equal(validateSpec(valid()).process.args[0], "sh");
});

Deno.test("validateSpec() names the first bad field", () => {
  // deno-lint-ignore no-explicit-any
  const cases: [(s: any) => void, RegExp][] = [
    [(s) => s.ociVersion = 1, /"ociVersion" must be a string/],
    [(s) => s.process.args = "sh", /"process\.args" must be a non-empty array of strings/],
    [(s) => s.process.env = [1], /"process\.env" must be an array of strings/],
    [(s) => s.process.user.uid = -1, /"process\.user" must have numeric uid and gid/],
    [(s) => s.process.user.additionalGids = ["x"], /"process\.user\.additionalGids"/],
    [
      (s) => s.process.capabilities.effective = ["CAP_NOPE"],
      /"process\.capabilities\.effective" has unknown capability "CAP_NOPE"/,
    ],
    [(s) => s.mounts = {}, /"mounts" must be an array/],
    [
      (s) => s.mounts[2].destination = "dev/pts",
      /"mounts\[2\]\.destination" must be an absolute path/,
    ],
    [
      (s) => s.linux.namespaces = [{ type: "user" }],
      /"linux\.namespaces\[0\]\.type" "user" is not supported/,
    ],
    [
      (s) => s.linux.resources = { pids: { limit: 1.5 } },
      /"linux\.resources\.pids\.limit" must be an integer/,
    ],
    [(s) => s.linux.resources = { cpu: [] }, /"linux\.resources\.cpu" must be an object/],
    [(s) => s.linux.seccomp = { syscalls: [] }, /"linux\.seccomp\.defaultAction" must be a string/],
    [
      (s) =>
        s.linux.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          syscalls: [{
            names: ["read"],
            action: "SCMP_ACT_ALLOW",
            args: [{ index: 7, value: 1, op: "SCMP_CMP_EQ" }],
          }],
        },
      /"linux\.seccomp\.syscalls\[0\]\.args" must be conditions/,
    ],
    [
      (s) => s.hooks = { poststart: [{ path: "hook" }] },
      /"hooks\.poststart\[0\]\.path" must be an absolute path/,
    ],
    [
      (s) => s.hooks = { poststop: [{ path: "/h", timeout: 0 }] },
      /"hooks\.poststop\[0\]\.timeout" must be a positive integer/,
    ],
  ];
  for (const [edit, message] of cases) {
    const spec = valid();
    edit(spec);
    assert.throws(() => validateSpec(spec), (e: Error) => {
      assert.ok(e instanceof InvalidError);
      assert.equal((e as InvalidError).exitCode, 125);
      assert.match(e.message, message);
      assert.match(e.message, /^Invalid config\.json: /);
      return true;
    });
  }
});

Deno.test("validateSpec() rejects what is not an object", () => {
  assert.throws(() => validateSpec([]), /"\(root\)" must be a JSON object/);
  assert.throws(() => validateSpec(null), InvalidError);
});

Deno.test("validateSpec() names a bad linux.resources field of every kind", () => {
  // deno-lint-ignore no-explicit-any
  const cases: [any, RegExp][] = [
    [
      { memory: { swappiness: 101 } },
      /"linux\.resources\.memory\.swappiness" must be an integer from 0 to 100/,
    ],
    [
      { memory: { disableOOMKiller: 1 } },
      /"linux\.resources\.memory\.disableOOMKiller" must be a boolean/,
    ],
    [{ memory: { kernelTCP: "1" } }, /"linux\.resources\.memory\.kernelTCP" must be an integer/],
    [
      { cpu: { realtimeRuntime: 0.5 } },
      /"linux\.resources\.cpu\.realtimeRuntime" must be an integer/,
    ],
    [{ cpu: { cpus: "0-" } }, /"linux\.resources\.cpu\.cpus" must be a list such as "0-3,6"/],
    [
      { blockIO: { weight: -1 } },
      /"linux\.resources\.blockIO\.weight" must be a 16-bit unsigned integer/,
    ],
    [
      { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0 }] } },
      /"linux\.resources\.blockIO\.throttleReadBpsDevice\[0\]\.rate" must be a non-negative integer/,
    ],
    [
      { blockIO: { weightDevice: [{ major: -8, minor: 0, weight: 10 }] } },
      /"linux\.resources\.blockIO\.weightDevice\[0\]\.major" must be a non-negative integer/,
    ],
    [
      { hugepageLimits: [{ pageSize: "2 MB", limit: 1 }] },
      /"linux\.resources\.hugepageLimits\[0\]\.pageSize" must be a size such as "2MB"/,
    ],
    [
      { hugepageLimits: [{ limit: 1 }] },
      /"linux\.resources\.hugepageLimits\[0\]\.pageSize" is required/,
    ],
    [
      { network: { classID: -1 } },
      /"linux\.resources\.network\.classID" must be a 32-bit unsigned integer/,
    ],
    [
      { network: { priorities: [{ name: "a b", priority: 1 }] } },
      /"linux\.resources\.network\.priorities\[0\]\.name" must be an interface name/,
    ],
    [
      { rdma: { mlx5_1: { hcaHandles: -1 } } },
      /"linux\.resources\.rdma\.mlx5_1\.hcaHandles" must be a 32-bit unsigned integer/,
    ],
    [
      { unified: { "../memory.max": "1" } },
      /"linux\.resources\.unified" has invalid cgroup file name "\.\.\/memory\.max"/,
    ],
    [{ unified: { "memory.max": 1 } }, /"linux\.resources\.unified\.memory\.max" must be a string/],
  ];
  for (const [resources, message] of cases) {
    const s = valid();
    s.linux.resources = resources;
    assert.throws(
      () => validateSpec(s),
      (e: Error) => e instanceof InvalidError && message.test(e.message),
      message.source,
    );
  }
  const ok = valid();
  ok.linux.resources = {
    memory: { swappiness: -1, disableOOMKiller: false, kernel: -1 },
    cpu: { cpus: "0-3,6", mems: "", realtimeRuntime: -1, idle: 1 },
    blockIO: { weight: 500, throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 40 }] },
    hugepageLimits: [{ pageSize: "64KB", limit: 0 }],
    network: { classID: 0x100001, priorities: [{ name: "eth0", priority: 5 }] },
    rdma: { mlx5_1: { hcaObjects: 9 } },
    unified: { "memory.high": "max", "cpu.weight.nice": "0" },
  };
  assert.deepEqual(validateSpec(ok).linux?.resources?.network?.classID, 0x100001);
});
