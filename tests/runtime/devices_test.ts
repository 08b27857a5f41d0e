/**
 * `berth runtime run` and devices: the runtime supplies its default nodes
 * under any `linux.resources.devices` rules (what `runc spec` writes is a
 * bare deny-all), and makes the spec's `linux.devices` as described, usable
 * only where the spec's rules allow. Runs as root (CI does).
 */
import assert from "node:assert/strict";
import type { Spec } from "../../lib/runtime/mod.ts";
import { makeBundle, runScript, SKIP_REASON, type TestBundle } from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;

const sh = (b: TestBundle, script: string, edit: (spec: Spec) => void) =>
  runScript(b, script, edit, "dev");

/** runc spec's rules, and a loop-control node (harmless to open) under another name. */
const denyAll = (extra: Spec["linux"] = {}) => (spec: Spec) => {
  spec.linux!.resources!.devices = [{ allow: false, access: "rwm" }];
  spec.linux!.devices = [
    { path: "/dev/ctl", type: "c", major: 10, minor: 237, fileMode: 0o640, uid: 1000, gid: 1001 },
    { path: "/dev/sub/fifo", type: "p", major: 0, minor: 0, fileMode: 0o600 },
  ];
  Object.assign(spec.linux!, extra);
};

Deno.test(
  { name: "runtime run: a deny-all device rule still gets the default devices", ignore },
  async () => {
    const b = makeBundle();
    try {
      const r = await sh(
        b,
        "echo x > /dev/null && echo null-ok; head -c 3 /dev/zero | wc -c; " +
          "head -c 2 /dev/urandom | wc -c; echo > /dev/full || echo full-ENOSPC; " +
          "readlink /dev/ptmx; ls /dev/pts/ptmx",
        denyAll(),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "null-ok\n3\n2\nfull-ENOSPC\npts/ptmx\n/dev/pts/ptmx\n");
      assert.match(r.stderr, /No space left on device/);
    } finally {
      b.close();
    }
  },
);

Deno.test(
  { name: "runtime run: linux.devices get their type, numbers, mode and owner", ignore },
  async () => {
    const b = makeBundle();
    try {
      const r = await sh(
        b,
        "stat -c '%F %t:%T %a %u:%g' /dev/ctl /dev/sub/fifo; (: < /dev/ctl) || echo denied",
        denyAll(),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        "character special file a:ed 640 1000:1001\nfifo 0:0 600 0:0\ndenied\n",
        "the spec's rules deny the node: it exists but cannot be opened",
      );
      assert.match(r.stderr, /Operation not permitted/);
    } finally {
      b.close();
    }
  },
);

Deno.test(
  { name: "runtime run: a linux.devices node the spec's rules allow can be opened", ignore },
  async () => {
    const b = makeBundle();
    try {
      const r = await sh(b, ": < /dev/ctl && echo opened", (spec) => {
        denyAll()(spec);
        spec.linux!.resources!.devices!.push({
          allow: true,
          type: "c",
          major: 10,
          minor: 237,
          access: "rw",
        });
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "opened\n");
    } finally {
      b.close();
    }
  },
);
