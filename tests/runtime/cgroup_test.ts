/**
 * cgroup limits through `berth runtime run`: an OOM kill gives 137, a pids
 * limit stops a fork bomb, the limits are written, and the cgroup is gone
 * afterwards.
 */
import assert from "node:assert/strict";
import { cgroupVersion } from "../../lib/runtime/mod.ts";
import {
  assertNoLeftovers,
  cleanup,
  makeBundle,
  runBundle,
  SKIP_REASON,
  uniqueId,
} from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;
const v1 = cgroupVersion() === 1;

Deno.test(
  { name: "runtime run: memory.limit 20 MB ends a growing shell with 137 (OOM)", ignore },
  async () => {
    const b = makeBundle();
    const id = uniqueId("oom");
    try {
      b.write({
        args: ["sh", "-c", "a=x; while true; do a=$a$a; done"],
        resources: { memory: { limit: 20 * 1024 * 1024, swap: 20 * 1024 * 1024 } },
      });
      const r = await runBundle(b, id);
      assert.equal(r.code, 137, r.stderr);
      assertNoLeftovers(b, id, r.pid);
    } finally {
      await cleanup(b, id);
      b.close();
    }
  },
);

Deno.test({ name: "runtime run: pids.limit 10 stops a fork bomb", ignore }, async () => {
  const b = makeBundle();
  const id = uniqueId("pids");
  try {
    b.write({
      args: [
        "sh",
        "-c",
        "n=0; for i in $(seq 50); do sleep 5 & n=$((n+1)); done; echo started $n; ps | wc -l",
      ],
      resources: { pids: { limit: 10 } },
    });
    const r = await runBundle(b, id);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
    assert.doesNotMatch(r.stdout, /started 50/);
    assertNoLeftovers(b, id, r.pid);
  } finally {
    await cleanup(b, id);
    b.close();
  }
});

Deno.test({
  name: "runtime run: cpu, memory and pids limits are written to the container's cgroup",
  ignore,
}, async () => {
  const b = makeBundle();
  const id = uniqueId("limits");
  try {
    // The container sees its own cgroup as the root of /sys/fs/cgroup (cgroup namespace).
    const files = v1
      ? [
        "memory/memory.limit_in_bytes",
        "pids/pids.max",
        "cpu/cpu.shares",
        "cpu/cpu.cfs_quota_us",
        "cpu/cpu.cfs_period_us",
      ]
      : ["memory.max", "pids.max", "cpu.weight", "cpu.max"];
    b.write({
      args: [
        "sh",
        "-c",
        `${files.map((f) => `cat /sys/fs/cgroup/${f}`).join("; ")}; cat /proc/self/cgroup`,
      ],
      resources: {
        memory: { limit: 64 * 1024 * 1024 },
        pids: { limit: 33 },
        cpu: { shares: 512, quota: 50000, period: 100000 },
      },
    });
    const r = await runBundle(b, id);
    assert.equal(r.code, 0, r.stderr);
    const want = v1
      ? ["67108864", "33", "512", "50000", "100000"]
      : ["67108864", "33", "20", "50000 100000"];
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(lines.slice(0, want.length), want);
    assert.ok(lines.slice(want.length).every((l) => l.endsWith(":/")), r.stdout);
    assertNoLeftovers(b, id, r.pid);
  } finally {
    await cleanup(b, id);
    b.close();
  }
});

const cgroup2 = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"].find((d) => {
  try {
    return Deno.statSync(`${d}/cgroup.procs`).isFile &&
      Deno.statSync(`${d}/cgroup.controllers`).isFile;
  } catch {
    return false;
  }
});

Deno.test({
  name: "the eBPF device filter (cgroup v2) denies a host disk and allows /dev/zero",
  ignore: ignore || cgroup2 === undefined,
}, async () => {
  const { attachDeviceProgram } = await import("../../ffi/bpf.ts");
  const { deviceFilter } = await import("../../lib/runtime/device_filter.ts");
  const { DEFAULT_DEVICE_RULES } = await import("../../lib/runtime/mod.ts");
  const dir = `${cgroup2}/berth-bpf-${Deno.pid}`;
  Deno.mkdirSync(dir);
  try {
    attachDeviceProgram(dir, deviceFilter(DEFAULT_DEVICE_RULES));
    const disk = Deno.statSync("/").dev;
    const major = ((disk >> 8) & 0xfff) | (Math.floor(disk / 2 ** 32) & ~0xfff);
    const minor = (disk & 0xff) | ((disk >> 12) & ~0xff);
    const node = `${Deno.makeTempDirSync({ prefix: "berth-rt-bpf-" })}`;
    try {
      const script =
        `echo $$ > ${dir}/cgroup.procs; mknod ${node}/disk b ${major} ${minor} && echo mknod-ok; ` +
        `head -c1 ${node}/disk >/dev/null 2>&1 && echo disk-read || echo disk-denied; head -c1 /dev/zero | wc -c`;
      const out = await new Deno.Command("/bin/sh", { args: ["-c", script], stdout: "piped" })
        .output();
      assert.equal(new TextDecoder().decode(out.stdout), "mknod-ok\ndisk-denied\n1\n");
    } finally {
      Deno.removeSync(node, { recursive: true });
    }
  } finally {
    for (let i = 0; i < 100; i++) {
      try {
        Deno.removeSync(dir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
});

Deno.test(
  { name: "runtime run: cpu.cpus pins the container to those CPUs (cpuset)", ignore },
  async () => {
    const b = makeBundle();
    const id = uniqueId("cpuset");
    try {
      b.write({
        args: ["grep", "Cpus_allowed_list", "/proc/self/status"],
        resources: { cpu: { cpus: "0" } },
      });
      const r = await runBundle(b, id);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Cpus_allowed_list:\s+0\n$/);
      assertNoLeftovers(b, id, r.pid);
      assert.throws(() => Deno.statSync(`/sys/fs/cgroup/cpuset/berth/${id}`));
    } finally {
      await cleanup(b, id);
      b.close();
    }
  },
);
