/**
 * cgroup limits through `berth runtime run`: an OOM kill gives 137, a pids
 * limit stops a fork bomb, the limits are written, and the cgroup is gone
 * afterwards.
 */
import assert from "node:assert/strict";
import { cgroupVersion, type Resources } from "../../lib/runtime/mod.ts";
import {
  assertNoLeftovers,
  berthRuntime,
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

// linux.resources the host may or may not support: each test finds out here, independently
// of berth, whether the host has what the resource needs, runs that branch (apply and read
// back, or a refusal that leaves nothing behind) and prints which one ran.

const CG = "/sys/fs/cgroup";
const isFile = (path: string) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};
/** The controllers a new cgroup can use: v1 hierarchies mounted under /sys/fs/cgroup, or v2's. */
const hostControllers = v1
  ? ["blkio", "net_cls", "net_prio", "hugetlb", "rdma", "memory", "cpu"].filter((c) =>
    isFile(`${CG}/${c}/cgroup.procs`)
  )
  : Deno.readTextFileSync(`${CG}/cgroup.controllers`).trim().split(/\s+/);
const has = (controller: string) => hostControllers.includes(controller);
// deno-lint-ignore no-console
const branch = (test: string, which: string) => console.log(`${test}: ${which} branch`);

/** Runs a container that prints `script`'s output with `resources`; returns its stdout. */
async function runWith(resources: Resources, script: string, cgroupsPath?: string) {
  const b = makeBundle();
  const id = uniqueId("res");
  try {
    b.write({ args: ["sh", "-c", script], resources }, (spec) => {
      if (cgroupsPath !== undefined) spec.linux!.cgroupsPath = cgroupsPath;
    });
    const r = await runBundle(b, id);
    assert.equal(r.code, 0, r.stderr);
    assertNoLeftovers(b, id, r.pid);
    return r.stdout;
  } finally {
    await cleanup(b, id);
    b.close();
  }
}

/** Asserts that `runtime run` refuses `resources` with one line and leaves nothing behind. */
async function assertRefused(resources: Resources, message: string) {
  const b = makeBundle();
  const id = uniqueId("refused");
  try {
    b.write({ args: ["true"], resources });
    const r = await runBundle(b, id);
    assert.equal(r.stderr, `Error: ${message}\n`);
    assert.equal(r.code, 125);
    assert.equal(r.pid, undefined, "no pid file");
    assertNoLeftovers(b, id);
    const list = await berthRuntime(["list", "--root", b.stateRoot, "-q"]);
    assert.equal(list.stdout, "", "no container in the state");
  } finally {
    await cleanup(b, id);
    b.close();
  }
}

/** `major:minor` of a whole disk of the host (throttle rules take disks, not partitions). */
function hostDisk(): string {
  const names = [...Deno.readDirSync("/sys/block")].map((e) => e.name).sort();
  const name = names.find((n) => !/^(loop|ram|zram)/.test(n)) ?? names[0]!;
  return Deno.readTextFileSync(`/sys/block/${name}/dev`).trim();
}

Deno.test({
  name: "runtime run: memory swappiness, disableOOMKiller and kernelTCP are applied or refused",
  ignore,
}, async () => {
  const name = "memory extras";
  const memory = { limit: 64 << 20, swappiness: 10, disableOOMKiller: true, kernelTCP: 32 << 20 };
  if (v1) {
    branch(name, "v1 apply");
    const out = await runWith(
      { memory },
      "cd /sys/fs/cgroup/memory; cat memory.swappiness memory.kmem.tcp.limit_in_bytes; " +
        "grep oom_kill_disable memory.oom_control",
    );
    assert.equal(out, `10\n${32 << 20}\noom_kill_disable 1\n`);
  } else {
    branch(name, "v2 refusal");
    await assertRefused(
      { memory: { swappiness: 10 } },
      'Cannot apply "linux.resources.memory.swappiness": cgroup v2 has no per-cgroup swappiness',
    );
    await assertRefused(
      { memory: { disableOOMKiller: true } },
      'Cannot apply "linux.resources.memory.disableOOMKiller": cgroup v2 cannot disable the OOM killer',
    );
  }
});

Deno.test({ name: "runtime run: memory.kernel is applied or refused", ignore }, async () => {
  const name = "memory.kernel";
  // Recent kernels keep memory.kmem.limit_in_bytes but ignore what is written to it.
  let kmem = false;
  if (v1) {
    const probe = `${CG}/memory/berth-kmem-probe-${Deno.pid}`;
    Deno.mkdirSync(probe);
    try {
      Deno.writeTextFileSync(`${probe}/memory.kmem.limit_in_bytes`, String(16 << 20));
      kmem = Deno.readTextFileSync(`${probe}/memory.kmem.limit_in_bytes`).trim() ===
        String(16 << 20);
    } catch {
      kmem = false;
    } finally {
      Deno.removeSync(probe);
    }
  }
  if (kmem) {
    branch(name, "v1 apply");
    const out = await runWith(
      { memory: { kernel: 16 << 20 } },
      "cat /sys/fs/cgroup/memory/memory.kmem.limit_in_bytes",
    );
    assert.equal(out, `${16 << 20}\n`);
  } else {
    branch(name, "refusal");
    await assertRefused(
      { memory: { kernel: 16 << 20 } },
      v1
        ? 'Cannot apply "linux.resources.memory.kernel": the host\'s kernel ignores kernel memory limits ("memory.kmem.limit_in_bytes")'
        : 'Cannot apply "linux.resources.memory.kernel": cgroup v2 has no kernel memory limit',
    );
  }
});

Deno.test(
  { name: "runtime run: blockIO throttle rules are applied or refused", ignore },
  async () => {
    const name = "blockIO throttle";
    const disk = hostDisk();
    const [major, minor] = disk.split(":").map(Number) as [number, number];
    const at = (rate: number) => [{ major, minor, rate }];
    const blockIO = {
      throttleReadBpsDevice: at(102400),
      throttleWriteBpsDevice: at(204800),
      throttleReadIOPSDevice: at(300),
      throttleWriteIOPSDevice: at(400),
    };
    if (v1 && has("blkio")) {
      branch(name, "v1 apply");
      const out = await runWith(
        { blockIO },
        "cd /sys/fs/cgroup/blkio; for f in read_bps write_bps read_iops write_iops; do " +
          "cat blkio.throttle.${f}_device; done",
      );
      assert.equal(out, `${disk} 102400\n${disk} 204800\n${disk} 300\n${disk} 400\n`);
    } else if (!v1 && has("io")) {
      branch(name, "v2 apply");
      const out = await runWith({ blockIO }, "cat /sys/fs/cgroup/io.max");
      assert.equal(out, `${disk} rbps=102400 wbps=204800 riops=300 wiops=400\n`);
    } else {
      branch(name, "refusal");
      await assertRefused(
        { blockIO },
        `Cannot apply "linux.resources.blockIO.throttleReadBpsDevice": the host has no ${
          v1 ? "blkio" : "io"
        } cgroup controller`,
      );
    }
  },
);

Deno.test({
  name: "runtime run: a container without blockIO limits has a blkio cgroup of its own (v1)",
  ignore: ignore || !v1 || !has("blkio"),
}, async () => {
  // The container's blkio root is its own cgroup, so its counters hold only its writes;
  // in the host's (no cgroup made) they would hold the whole machine's.
  const out = await runWith(
    {},
    "dd if=/dev/zero of=/root/f bs=1M count=5 oflag=direct 2>/dev/null; rm /root/f; " +
      "awk '$2 == \"Write\" { s += $3 } END { print s + 0 }' " +
      "/sys/fs/cgroup/blkio/blkio.throttle.io_service_bytes",
  );
  const written = Number(out.trim());
  assert.ok(written >= 5 << 20 && written < 64 << 20, `blkio counted ${out}`);
});

Deno.test({
  name: "runtime run: a throttle rule for a device the host lacks is refused",
  ignore: ignore || !(has("blkio") || has("io")),
}, async () => {
  await assertRefused(
    { blockIO: { throttleReadBpsDevice: [{ major: 4095, minor: 0, rate: 1 }] } },
    'Cannot apply "linux.resources.blockIO.throttleReadBpsDevice[0]": the host has no block device "4095:0"',
  );
});

Deno.test({ name: "runtime run: blockIO weight is applied or refused", ignore }, async () => {
  const name = "blockIO weight";
  const file = v1
    ? ["blkio.bfq.weight", "blkio.weight"].find((f) => has("blkio") && isFile(`${CG}/blkio/${f}`))
    : has("io")
    ? "io.bfq.weight or io.weight"
    : undefined;
  if (file !== undefined) {
    branch(name, `apply (${file})`);
    const out = await runWith(
      { blockIO: { weight: 500 } },
      v1
        ? `cat /sys/fs/cgroup/blkio/${file}`
        : "cat /sys/fs/cgroup/io.bfq.weight 2>/dev/null || cat /sys/fs/cgroup/io.weight",
    );
    // io.weight takes 1-10000: 500 of blkio's 10-1000 maps to 1 + (500 - 10) * 9999 / 990;
    // BFQ's files take blkio's scale.
    assert.match(out, v1 ? /^500\n$/ : /^default (500|4950)\n/);
  } else {
    branch(name, "refusal");
    await assertRefused(
      { blockIO: { weight: 500 } },
      has("blkio")
        ? 'Cannot apply "linux.resources.blockIO.weight": the host\'s blkio cgroup controller has no "blkio.weight" (it needs the BFQ I/O scheduler)'
        : `Cannot apply "linux.resources.blockIO.weight": the host has no ${
          v1 ? "blkio" : "io"
        } cgroup controller`,
    );
  }
});

Deno.test(
  { name: "runtime run: network classID and priorities are applied or refused", ignore },
  async () => {
    const name = "network";
    if (v1 && has("net_cls") && has("net_prio")) {
      branch(name, "v1 apply");
      const out = await runWith(
        { network: { classID: 0x100001, priorities: [{ name: "lo", priority: 7 }] } },
        "cat /sys/fs/cgroup/net_cls/net_cls.classid; grep '^lo ' /sys/fs/cgroup/net_prio/net_prio.ifpriomap",
      );
      assert.equal(out, `${0x100001}\nlo 7\n`);
    } else {
      branch(name, "refusal");
      const why = v1
        ? "the host has no net_cls cgroup controller"
        : "cgroup v2 has no net_cls controller";
      await assertRefused(
        { network: { classID: 0x100001 } },
        `Cannot apply "linux.resources.network.classID": ${why}`,
      );
    }
  },
);

Deno.test({ name: "runtime run: hugepageLimits are applied or refused", ignore }, async () => {
  const name = "hugepageLimits";
  const sizes = (() => {
    try {
      return [...Deno.readDirSync("/sys/kernel/mm/hugepages")].map((e) => e.name);
    } catch {
      return [];
    }
  })();
  if (has("hugetlb") && sizes.includes("hugepages-2048kB")) {
    branch(name, "apply");
    const file = v1 ? "hugetlb/hugetlb.2MB.limit_in_bytes" : "hugetlb.2MB.max";
    const out = await runWith(
      { hugepageLimits: [{ pageSize: "2MB", limit: 2 * 2 ** 30 }] },
      `cat /sys/fs/cgroup/${file}`,
    );
    assert.equal(out, `${2 * 2 ** 30}\n`);
    await assertRefused(
      { hugepageLimits: [{ pageSize: "3MB", limit: 3 << 20 }] },
      'Cannot apply "linux.resources.hugepageLimits[0].pageSize": the host has no "3MB" huge pages',
    );
  } else {
    branch(name, "refusal");
    await assertRefused(
      { hugepageLimits: [{ pageSize: "2MB", limit: 2 * 2 ** 30 }] },
      'Cannot apply "linux.resources.hugepageLimits": the host has no hugetlb cgroup controller',
    );
  }
});

Deno.test({ name: "runtime run: rdma limits are applied or refused", ignore }, async () => {
  // No test host has an RDMA device: with the controller, the kernel refuses an unknown one.
  const name = "rdma";
  branch(name, has("rdma") ? "refusal of an unknown device" : "refusal");
  await assertRefused(
    { rdma: { berth_none: { hcaHandles: 2 } } },
    has("rdma")
      ? 'Cannot apply "linux.resources.rdma.berth_none": the host has no RDMA device "berth_none"'
      : 'Cannot apply "linux.resources.rdma": the host has no rdma cgroup controller',
  );
});

Deno.test(
  { name: "runtime run: unified is applied on cgroup v2 and refused on v1", ignore },
  async () => {
    const name = "unified";
    if (v1) {
      branch(name, "v1 refusal");
      await assertRefused(
        { unified: { "pids.max": "7" } },
        'Cannot apply "linux.resources.unified": the host uses cgroup v1',
      );
    } else {
      branch(name, "v2 apply");
      const out = await runWith({ unified: { "pids.max": "7" } }, "cat /sys/fs/cgroup/pids.max");
      assert.equal(out, "7\n");
    }
  },
);

Deno.test({ name: "runtime run: cpu idle and burst are applied or refused", ignore }, async () => {
  const name = "cpu idle, burst";
  // v1: the files exist from Linux 5.14/5.15 on; v2: the cpu controller has them since then.
  const v1Files = ["cpu.idle", "cpu.cfs_burst_us"];
  const files = v1 ? v1Files.map((f) => `cpu/${f}`) : ["cpu.idle", "cpu.max.burst"];
  const cpu = { idle: 1, quota: 50000, period: 100000, burst: 20000 };
  if (v1 ? v1Files.every((f) => isFile(`${CG}/cpu/${f}`)) : has("cpu")) {
    branch(name, "apply");
    const out = await runWith({ cpu }, files.map((f) => `cat /sys/fs/cgroup/${f}`).join("; "));
    assert.equal(out, "1\n20000\n");
    // What the kernel refuses is refused the same way, naming the field and the file.
    await assertRefused(
      { cpu: { idle: 5 } },
      'Cannot apply "linux.resources.cpu.idle": the kernel refused "5" in "cpu.idle": Invalid argument (os error 22)',
    );
  } else {
    branch(name, "refusal");
    const missing = v1Files.find((f) => !isFile(`${CG}/cpu/${f}`));
    await assertRefused(
      { cpu },
      v1 && missing !== undefined
        ? `Cannot apply "linux.resources.cpu.${
          missing === "cpu.idle" ? "idle" : "burst"
        }": the host's cpu cgroup controller has no "${missing}"`
        : 'Cannot apply "linux.resources.cpu.quota": the host has no cpu cgroup controller',
    );
  }
});

Deno.test({ name: "runtime run: cpu realtime runtime is applied or refused", ignore }, async () => {
  const name = "cpu realtime";
  const cpu = { realtimePeriod: 1000000, realtimeRuntime: 10000 };
  if (v1 && isFile(`${CG}/cpu/cpu.rt_runtime_us`)) {
    branch(name, "v1 apply under the root, refusal under berth/ without a budget");
    const path = `/berth-rt-${Deno.pid}`;
    try {
      const out = await runWith(
        { cpu },
        "cat /sys/fs/cgroup/cpu/cpu.rt_period_us /sys/fs/cgroup/cpu/cpu.rt_runtime_us",
        path,
      );
      assert.equal(out, "1000000\n10000\n");
      assert.equal(isFile(`${CG}/cpu${path}/cgroup.procs`), false, "the cgroup is removed");
    } finally {
      for (const c of ["memory", "pids", "cpu", "cpuacct", "freezer", "devices", "unified"]) {
        try {
          Deno.removeSync(`${CG}/${c}${path}`);
        } catch {
          // not left
        }
      }
    }
    const budget = Number(Deno.readTextFileSync(`${CG}/cpu/berth/cpu.rt_runtime_us`).trim());
    if (budget < cpu.realtimeRuntime) {
      await assertRefused(
        { cpu },
        `Cannot apply "linux.resources.cpu.realtimeRuntime": the kernel refused "10000" in "cpu.rt_runtime_us": the parent cgroup "/sys/fs/cgroup/cpu/berth" has ${budget} µs of realtime runtime per 1000000 µs`,
      );
    }
  } else {
    branch(name, "refusal");
    await assertRefused(
      { cpu },
      v1
        ? 'Cannot apply "linux.resources.cpu.realtimePeriod": the host\'s cpu cgroup controller has no "cpu.rt_period_us"'
        : 'Cannot apply "linux.resources.cpu.realtimePeriod": cgroup v2 has no realtime CPU limits',
    );
  }
});

/** Every cgroup hierarchy's directory for `rel` that exists (v1: per controller; v2: the root). */
function cgroupDirs(rel: string): string[] {
  const roots = [...Deno.readDirSync("/sys/fs/cgroup")].filter((e) => e.isDirectory)
    .map((e) => `/sys/fs/cgroup/${e.name}`);
  return [...roots, "/sys/fs/cgroup"].map((root) => `${root}/${rel}`).filter((dir) => {
    try {
      return Deno.statSync(dir).isDirectory;
    } catch {
      return false;
    }
  });
}

/** Removes `rel` and what is under it in every hierarchy (for a test's cleanup). */
function removeCgroupTree(rel: string): void {
  for (const top of cgroupDirs(rel)) {
    const walk = (dir: string): void => {
      for (const e of Deno.readDirSync(dir)) if (e.isDirectory) walk(`${dir}/${e.name}`);
      Deno.removeSync(dir);
    };
    walk(top);
  }
}

Deno.test({
  name: "runtime run: the parents of a cgroupsPath that create made are gone after delete, " +
    "those that existed stay",
  ignore,
}, async () => {
  const made = `berth-test-made-${Deno.pid}`;
  const kept = `berth-test-kept-${Deno.pid}`;
  try {
    // Nothing of `made` exists: create makes made/a in every hierarchy, and delete removes it.
    await runWith({ pids: { limit: 50 } }, "true", `/${made}/a/ctr`);
    assert.deepEqual(cgroupDirs(made), [], "parents made by create were left");
    // `kept` exists in the pids hierarchy only: it stays there, the others' go.
    Deno.mkdirSync(`/sys/fs/cgroup/pids/${kept}`);
    await runWith({ pids: { limit: 50 } }, "true", `/${kept}/ctr`);
    assert.deepEqual(cgroupDirs(kept), [`/sys/fs/cgroup/pids/${kept}`]);
    assert.deepEqual(cgroupDirs(`${kept}/ctr`), []);
  } finally {
    removeCgroupTree(made);
    removeCgroupTree(kept);
  }
});
