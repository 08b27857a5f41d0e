import assert from "node:assert/strict";
import { CAPABILITIES } from "../../ffi/caps.ts";
import { DEFAULT_CAPABILITIES, defaultSpec } from "./default_spec.ts";

Deno.test("defaultSpec() grants Docker's 14 capabilities, bounding mask a80425fb, none inheritable", () => {
  const spec = defaultSpec({ args: ["true"] });
  const caps = spec.process.capabilities!;
  for (const set of [caps.bounding, caps.effective, caps.permitted]) {
    assert.deepEqual(set, [...DEFAULT_CAPABILITIES]);
  }
  assert.equal(caps.inheritable, undefined);
  assert.equal(caps.ambient, undefined);
  const mask = DEFAULT_CAPABILITIES.reduce((m, c) => m | (1n << BigInt(CAPABILITIES[c]!)), 0n);
  assert.equal(mask.toString(16).padStart(16, "0"), "00000000a80425fb");
});

Deno.test("defaultSpec() has Docker's masked and read-only paths, mounts and namespaces", () => {
  const spec = defaultSpec({ args: ["true"] });
  assert.deepEqual(spec.linux!.maskedPaths, [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
  ]);
  assert.deepEqual(spec.linux!.readonlyPaths, [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
  ]);
  assert.deepEqual(spec.mounts!.map((m) => `${m.destination}:${m.type}`), [
    "/proc:proc",
    "/dev:tmpfs",
    "/dev/pts:devpts",
    "/sys:sysfs",
    "/sys/fs/cgroup:cgroup",
    "/dev/mqueue:mqueue",
    "/dev/shm:tmpfs",
  ]);
  assert.ok(spec.mounts![2]!.options!.includes("newinstance"));
  assert.ok(spec.mounts![2]!.options!.includes("ptmxmode=0666"));
  assert.ok(spec.mounts![3]!.options!.includes("ro"));
  assert.ok(spec.mounts![4]!.options!.includes("ro"));
  assert.deepEqual(spec.linux!.namespaces!.map((n) => n.type).sort(), [
    "cgroup",
    "ipc",
    "mount",
    "network",
    "pid",
    "uts",
  ]);
  const devices = spec.linux!.resources!.devices!;
  assert.deepEqual(devices[0], { allow: false, access: "rwm" }, "deny everything first");
  assert.ok(
    devices.some((d) => d.allow && d.type === "c" && d.major === 136 && d.access === "rwm"),
    "pts",
  );
  assert.ok(
    !devices.some((d) => d.allow && d.type === "b" && d.access !== "m"),
    "no block device access",
  );
  assert.equal(spec.process.user.uid, 0);
  assert.equal(spec.process.cwd, "/");
  assert.equal(spec.root.path, "rootfs");
  assert.equal(spec.process.noNewPrivileges, false);
});

Deno.test("defaultSpec() adds PATH, HOSTNAME and TERM as Docker does, keeping the caller's", () => {
  const spec = defaultSpec({ args: ["sh"], env: ["A=1"], hostname: "web", terminal: true });
  assert.deepEqual(spec.process.env, [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOSTNAME=web",
    "A=1",
    "TERM=xterm",
  ]);
  assert.equal(spec.hostname, "web");
  assert.equal(defaultSpec({ args: ["sh"], env: ["PATH=/x"] }).process.env![0], "PATH=/x");
});

Deno.test("defaultSpec() takes user, capabilities, readonly root, resources and extra mounts", () => {
  const spec = defaultSpec({
    args: ["sh"],
    user: { uid: 1000, gid: 100, additionalGids: [10] },
    capabilities: ["CAP_KILL"],
    readonlyRootfs: true,
    noNewPrivileges: true,
    resources: { memory: { limit: 1 << 20 } },
    mounts: [{ destination: "/data", type: "bind", source: "/srv", options: ["rbind"] }],
  });
  assert.deepEqual(spec.process.user, { uid: 1000, gid: 100, additionalGids: [10] });
  assert.deepEqual(spec.process.capabilities!.bounding, ["CAP_KILL"]);
  assert.equal(spec.root.readonly, true);
  assert.equal(spec.process.noNewPrivileges, true);
  assert.equal(spec.linux!.resources!.memory!.limit, 1 << 20);
  assert.equal(spec.mounts!.at(-1)!.destination, "/data");
});
