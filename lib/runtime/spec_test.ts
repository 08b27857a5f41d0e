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
