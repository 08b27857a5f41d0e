import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import {
  type Cgroup,
  cgroupRelativePath,
  cgroupVersion,
  createCgroup,
  deviceRule,
  oomKilled,
  removeCgroup,
} from "./cgroup.ts";
import { ioWeight } from "./cgroup_resources.ts";
import type { Resources } from "./spec.ts";

const resources = {
  memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20 },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0", mems: "0" },
  pids: { limit: 10 },
};

const read = (path: string) => Deno.readTextFileSync(path);

/** Makes `dir` with empty `files`: a cgroup directory has its files from the start. */
function fake(dir: string, files: string[] = [], contents: Record<string, string> = {}) {
  Deno.mkdirSync(dir, { recursive: true });
  for (const f of files) Deno.writeTextFileSync(`${dir}/${f}`, "");
  for (const [f, text] of Object.entries(contents)) Deno.writeTextFileSync(`${dir}/${f}`, text);
}

/** Empties the fake directories so that removeCgroup's rmdir can remove them. */
function empty(cg: Cgroup) {
  for (const dir of Object.values(cg.dirs)) {
    for (const f of Deno.readDirSync(dir)) Deno.removeSync(`${dir}/${f.name}`);
  }
}

/** A fake v1 mount with `controllers`; `leaf` files are made in `<controller>/berth/c1`. */
function fakeV1(mount: string, leaf: Record<string, string[]>) {
  for (const [ctrl, files] of Object.entries(leaf)) {
    fake(`${mount}/${ctrl}`, ["cgroup.procs"]);
    if (files.length > 0) fake(`${mount}/${ctrl}/berth/c1`, files);
  }
}

const V2_FILES = [
  "memory.max",
  "memory.swap.max",
  "memory.low",
  "cpu.max",
  "cpu.weight",
  "pids.max",
  "cpuset.cpus",
  "cpuset.mems",
];

Deno.test("createCgroup() writes v2 limits (memory.max, memory.swap.max, cpu.max, cpu.weight, pids.max)", async () => {
  const mount = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${mount}/cgroup.controllers`, "cpuset cpu io memory pids\n");
    fake(`${mount}/berth`, [], { "cgroup.controllers": "cpuset cpu memory pids\n" });
    fake(`${mount}/berth/c1`, V2_FILES, { "cgroup.controllers": "cpuset cpu memory pids\n" });
    assert.equal(cgroupVersion(mount), 2);
    const cg = createCgroup("berth/c1", resources, { mount });
    const dir = `${mount}/berth/c1`;
    assert.deepEqual(cg, { version: 2, dirs: { "": dir } });
    assert.equal(read(`${mount}/cgroup.subtree_control`), "+memory +pids +cpu +cpuset +io");
    assert.equal(read(`${mount}/berth/cgroup.subtree_control`), "+memory +pids +cpu +cpuset");
    assert.equal(read(`${dir}/memory.max`), String(64 << 20));
    assert.equal(read(`${dir}/memory.swap.max`), String(64 << 20));
    assert.equal(read(`${dir}/memory.low`), String(32 << 20));
    assert.equal(read(`${dir}/cpu.max`), "50000 100000");
    assert.equal(read(`${dir}/cpu.weight`), "20");
    assert.equal(read(`${dir}/pids.max`), "10");
    assert.equal(read(`${dir}/cpuset.cpus`), "0");
    Deno.writeTextFileSync(`${dir}/memory.events`, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    assert.equal(oomKilled(cg), true);
    empty(cg);
    assert.equal(await removeCgroup(cg), true);
    assert.throws(() => Deno.statSync(dir));
  } finally {
    Deno.removeSync(mount, { recursive: true });
  }
});

Deno.test("createCgroup() writes v2 io, hugetlb, rdma, cpu idle and burst, and unified files", async () => {
  const mount = Deno.makeTempDirSync();
  try {
    const all = "cpuset cpu io memory pids hugetlb rdma\n";
    Deno.writeTextFileSync(`${mount}/cgroup.controllers`, all);
    const files = ["io.weight", "io.max", "hugetlb.2MB.max", "rdma.max", "cpu.idle", "cpu.max"];
    fake(`${mount}/c2`, [...files, "cpu.max.burst", "memory.high"], { "cgroup.controllers": all });
    const cg = createCgroup("c2", {
      cpu: { idle: 1, quota: 20000, burst: 1000 },
      blockIO: { weight: 1000, throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 40 }] },
      hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }],
      rdma: { mlx5_1: { hcaObjects: 9 } },
      unified: { "memory.high": "1000000" },
    }, { mount });
    const dir = `${mount}/c2`;
    assert.equal(read(`${dir}/io.weight`), "default 10000");
    assert.equal(read(`${dir}/io.max`), "8:16 wiops=40");
    assert.equal(read(`${dir}/hugetlb.2MB.max`), String(4 << 20));
    assert.equal(read(`${dir}/rdma.max`), "mlx5_1 hca_handle=max hca_object=9");
    assert.equal(read(`${dir}/cpu.idle`), "1");
    assert.equal(read(`${dir}/cpu.max`), "20000 100000");
    assert.equal(read(`${dir}/cpu.max.burst`), "1000");
    assert.equal(read(`${dir}/memory.high`), "1000000");
    empty(cg);
    assert.equal(await removeCgroup(cg), true);
  } finally {
    Deno.removeSync(mount, { recursive: true });
  }
});

Deno.test("ioWeight() maps blkio's 10-1000 onto io.weight's 1-10000", () => {
  assert.equal(ioWeight(10), 1);
  assert.equal(ioWeight(500), 4950);
  assert.equal(ioWeight(1000), 10000);
});

Deno.test("createCgroup() refuses on v2 what v2 has no file for, and removes the cgroup", async () => {
  const cases: [Resources, string][] = [
    [
      { memory: { swappiness: 0 } },
      '"linux.resources.memory.swappiness": cgroup v2 has no per-cgroup swappiness',
    ],
    [
      { memory: { disableOOMKiller: true } },
      '"linux.resources.memory.disableOOMKiller": cgroup v2 cannot disable the OOM killer',
    ],
    [
      { memory: { kernel: 1 << 20 } },
      '"linux.resources.memory.kernel": cgroup v2 has no kernel memory limit',
    ],
    [
      { memory: { kernelTCP: 1 << 20 } },
      '"linux.resources.memory.kernelTCP": cgroup v2 has no kernel TCP memory limit',
    ],
    [
      { cpu: { realtimeRuntime: 1000 } },
      '"linux.resources.cpu.realtimeRuntime": cgroup v2 has no realtime CPU limits',
    ],
    [
      { blockIO: { leafWeight: 100 } },
      '"linux.resources.blockIO.leafWeight": cgroup v2 has no leaf weights',
    ],
    [
      { network: { classID: 1 } },
      '"linux.resources.network.classID": cgroup v2 has no net_cls controller',
    ],
    [
      { blockIO: { weight: 100 } },
      '"linux.resources.blockIO.weight": the host has no io cgroup controller',
    ],
    [
      { hugepageLimits: [{ pageSize: "2MB", limit: 0 }] },
      '"linux.resources.hugepageLimits": the host has no hugetlb cgroup controller',
    ],
    [
      { unified: { "misc.max": "x 1" } },
      '"linux.resources.unified.misc.max": the host has no misc cgroup controller',
    ],
    [
      { unified: { "memory.nope": "1" } },
      '"linux.resources.unified.memory.nope": the cgroup has no file "memory.nope"',
    ],
  ];
  const mount = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${mount}/cgroup.controllers`, "cpu memory pids\n");
    const unlimited = createCgroup("c3", {
      memory: { kernel: -1, kernelTCP: -1, swappiness: -1, disableOOMKiller: false },
      blockIO: { throttleReadBpsDevice: [] },
    }, { mount });
    assert.equal(
      await removeCgroup(unlimited),
      true,
      "unset and unlimited values ask v2 for nothing",
    );
    for (const [r, message] of cases) {
      // No files in the leaf: nothing may be written before the refusal, or rmdir would fail.
      assert.throws(() => createCgroup("c3", r, { mount }), (e: Error) => {
        assert.ok(e instanceof InvalidError);
        assert.equal(e.message, `Cannot apply ${message}`);
        return true;
      });
      assert.throws(() => Deno.statSync(`${mount}/c3`), Deno.errors.NotFound, message);
    }
  } finally {
    Deno.removeSync(mount, { recursive: true });
  }
});

Deno.test("createCgroup() writes v1 limits per controller", async () => {
  const mount = Deno.makeTempDirSync();
  try {
    fakeV1(mount, {
      memory: [
        "memory.limit_in_bytes",
        "memory.memsw.limit_in_bytes",
        "memory.soft_limit_in_bytes",
      ],
      pids: ["pids.max"],
      cpu: ["cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"],
      cpuset: [],
    });
    Deno.writeTextFileSync(`${mount}/cpuset/cpuset.cpus`, "0-1");
    Deno.writeTextFileSync(`${mount}/cpuset/cpuset.mems`, "0");
    assert.equal(cgroupVersion(mount), 1);
    const cg = createCgroup("berth/c1", resources, { mount });
    assert.deepEqual(Object.keys(cg.dirs).sort(), ["cpu", "cpuset", "memory", "pids"]);
    assert.equal(read(`${mount}/cpuset/berth/cpuset.cpus`), "0-1", "the parent's CPUs first");
    assert.equal(read(`${mount}/cpuset/berth/c1/cpuset.cpus`), "0");
    assert.equal(read(`${mount}/memory/berth/c1/memory.limit_in_bytes`), String(64 << 20));
    assert.equal(read(`${mount}/memory/berth/c1/memory.memsw.limit_in_bytes`), String(128 << 20));
    assert.equal(read(`${mount}/cpu/berth/c1/cpu.shares`), "512");
    assert.equal(read(`${mount}/cpu/berth/c1/cpu.cfs_quota_us`), "50000");
    assert.equal(read(`${mount}/pids/berth/c1/pids.max`), "10");
    assert.equal(oomKilled(cg), false);
    empty(cg);
    assert.equal(await removeCgroup(cg), true);
  } finally {
    Deno.removeSync(mount, { recursive: true });
  }
});

Deno.test("createCgroup() writes v1 memory, cpu, blkio, hugetlb, net_cls, net_prio and rdma files", async () => {
  const mount = Deno.makeTempDirSync();
  try {
    const throttles = ["read_bps", "write_bps", "read_iops", "write_iops"]
      .map((t) => `blkio.throttle.${t}_device`);
    fakeV1(mount, {
      memory: [
        "memory.kmem.limit_in_bytes",
        "memory.kmem.tcp.limit_in_bytes",
        "memory.swappiness",
        "memory.oom_control",
        "memory.use_hierarchy",
      ],
      cpu: ["cpu.rt_period_us", "cpu.rt_runtime_us", "cpu.idle", "cpu.cfs_burst_us"],
      pids: [],
      blkio: [
        "blkio.weight",
        "blkio.weight_device",
        "blkio.leaf_weight",
        "blkio.leaf_weight_device",
        ...throttles,
      ],
      hugetlb: ["hugetlb.2MB.limit_in_bytes", "hugetlb.1GB.limit_in_bytes"],
      net_cls: ["net_cls.classid"],
      net_prio: ["net_prio.ifpriomap"],
      rdma: ["rdma.max"],
    });
    const at = (rate: number) => [{ major: 8, minor: 0, rate }];
    const cg = createCgroup("berth/c1", {
      memory: {
        kernel: 8 << 20,
        kernelTCP: 4 << 20,
        swappiness: 0,
        disableOOMKiller: true,
        useHierarchy: true,
      },
      cpu: { realtimePeriod: 1000000, realtimeRuntime: 5000, idle: 1, burst: 700 },
      blockIO: {
        weight: 500,
        leafWeight: 200,
        weightDevice: [{ major: 8, minor: 0, weight: 300, leafWeight: 100 }],
        throttleReadBpsDevice: at(1),
        throttleWriteBpsDevice: at(2),
        throttleReadIOPSDevice: at(3),
        throttleWriteIOPSDevice: at(4),
      },
      hugepageLimits: [{ pageSize: "1GB", limit: 1 << 30 }],
      network: { classID: 0x100001, priorities: [{ name: "eth0", priority: 5 }] },
      rdma: { mlx5_1: { hcaHandles: 3 } },
    }, { mount });
    assert.deepEqual(
      Object.keys(cg.dirs).sort(),
      ["blkio", "cpu", "hugetlb", "memory", "net_cls", "net_prio", "pids", "rdma"],
      "a directory for each controller written",
    );
    const want: Record<string, string> = {
      "memory/memory.kmem.limit_in_bytes": String(8 << 20),
      "memory/memory.kmem.tcp.limit_in_bytes": String(4 << 20),
      "memory/memory.swappiness": "0",
      "memory/memory.oom_control": "1",
      "memory/memory.use_hierarchy": "1",
      "cpu/cpu.rt_period_us": "1000000",
      "cpu/cpu.rt_runtime_us": "5000",
      "cpu/cpu.idle": "1",
      "cpu/cpu.cfs_burst_us": "700",
      "blkio/blkio.weight": "500",
      "blkio/blkio.leaf_weight": "200",
      "blkio/blkio.weight_device": "8:0 300",
      "blkio/blkio.leaf_weight_device": "8:0 100",
      "blkio/blkio.throttle.read_bps_device": "8:0 1",
      "blkio/blkio.throttle.write_bps_device": "8:0 2",
      "blkio/blkio.throttle.read_iops_device": "8:0 3",
      "blkio/blkio.throttle.write_iops_device": "8:0 4",
      "hugetlb/hugetlb.1GB.limit_in_bytes": String(1 << 30),
      "hugetlb/hugetlb.2MB.limit_in_bytes": "",
      "net_cls/net_cls.classid": String(0x100001),
      "net_prio/net_prio.ifpriomap": "eth0 5",
      "rdma/rdma.max": "mlx5_1 hca_handle=3 hca_object=max",
    };
    for (const [file, value] of Object.entries(want)) {
      const [ctrl, name] = file.split("/");
      assert.equal(read(`${mount}/${ctrl}/berth/c1/${name}`), value, file);
    }
    empty(cg);
    assert.equal(await removeCgroup(cg), true);
    for (const ctrl of Object.keys(cg.dirs)) {
      assert.throws(() => Deno.statSync(`${mount}/${ctrl}/berth/c1`));
    }
  } finally {
    Deno.removeSync(mount, { recursive: true });
  }
});

Deno.test("createCgroup() writes BFQ's blkio.bfq.weight where the host has it", () => {
  const mount = Deno.makeTempDirSync();
  try {
    fakeV1(mount, { blkio: ["blkio.bfq.weight", "blkio.bfq.weight_device"] });
    createCgroup("berth/c1", {
      blockIO: { weight: 50, weightDevice: [{ major: 8, minor: 0, weight: 60 }] },
    }, { mount });
    assert.equal(read(`${mount}/blkio/berth/c1/blkio.bfq.weight`), "50");
    assert.equal(read(`${mount}/blkio/berth/c1/blkio.bfq.weight_device`), "8:0 60");
  } finally {
    Deno.removeSync(mount, { recursive: true });
  }
});

Deno.test("createCgroup() refuses a v1 limit the host cannot apply and removes what it made", async () => {
  const cases: [Resources, string][] = [
    [{ pids: { limit: 5 } }, '"linux.resources.pids": the host has no pids cgroup controller'],
    [
      { memory: { limit: 1 << 20 }, network: { classID: 1 } },
      '"linux.resources.network.classID": the host has no net_cls cgroup controller',
    ],
    [
      { network: { priorities: [{ name: "lo", priority: 1 }] } },
      '"linux.resources.network.priorities": the host has no net_prio cgroup controller',
    ],
    [{ rdma: { mlx4_0: {} } }, '"linux.resources.rdma": the host has no rdma cgroup controller'],
    [{ unified: { "pids.max": "1" } }, '"linux.resources.unified": the host uses cgroup v1'],
    [
      { blockIO: { weight: 100 } },
      '"linux.resources.blockIO.weight": the host\'s blkio cgroup controller has no "blkio.weight" (it needs the BFQ I/O scheduler)',
    ],
    [
      { blockIO: { leafWeight: 100 } },
      '"linux.resources.blockIO.leafWeight": the host\'s blkio cgroup controller has no "blkio.leaf_weight"',
    ],
    [
      { hugepageLimits: [{ pageSize: "3MB", limit: 0 }] },
      '"linux.resources.hugepageLimits[0].pageSize": the host has no "3MB" huge pages',
    ],
    [
      { memory: { swap: 1 << 20 } },
      '"linux.resources.memory.swap": the host\'s memory cgroup controller has no swap accounting ("memory.memsw.limit_in_bytes")',
    ],
    [
      { cpu: { realtimeRuntime: 1 } },
      '"linux.resources.cpu.realtimeRuntime": the host\'s cpu cgroup controller has no "cpu.rt_runtime_us"',
    ],
  ];
  const mount = Deno.makeTempDirSync();
  try {
    fakeV1(mount, { memory: [], cpu: [], blkio: [], hugetlb: [] });
    fake(`${mount}/hugetlb`, ["hugetlb.2MB.limit_in_bytes"]);
    const unset = createCgroup("berth/c2", {
      memory: { swappiness: -1 },
      network: { priorities: [] },
      rdma: {},
      hugepageLimits: [],
    }, { mount });
    assert.deepEqual(
      Object.keys(unset.dirs).sort(),
      ["blkio", "cpu", "memory"],
      "blkio always (its counters are stats' BLOCK I/O), no hugetlb directory",
    );
    assert.equal(await removeCgroup(unset), true, "empty lists and unset values need nothing");
    for (const ctrl of ["blkio", "cpu", "memory"]) {
      assert.throws(() => Deno.statSync(`${mount}/${ctrl}/berth/c2`), Deno.errors.NotFound);
    }
    const noMemory = Deno.makeTempDirSync();
    try {
      fakeV1(noMemory, { cpu: [] });
      const cg = createCgroup(
        "c",
        { memory: { disableOOMKiller: false, swappiness: -1 } },
        { mount: noMemory },
      );
      assert.deepEqual(
        Object.keys(cg.dirs),
        ["cpu"],
        "Docker's defaults need no memory controller",
      );
    } finally {
      Deno.removeSync(noMemory, { recursive: true });
    }
    for (const [r, message] of cases) {
      assert.throws(() => createCgroup("berth/c2", r, { mount }), (e: Error) => {
        assert.ok(e instanceof InvalidError);
        assert.equal(e.message, `Cannot apply ${message}`);
        return true;
      });
      for (const ctrl of ["memory", "cpu", "blkio", "hugetlb"]) {
        assert.throws(
          () => Deno.statSync(`${mount}/${ctrl}/berth/c2`),
          Deno.errors.NotFound,
          `${ctrl}: ${message}`,
        );
      }
    }
  } finally {
    Deno.removeSync(mount, { recursive: true });
  }
});

Deno.test("cgroupRelativePath() defaults to berth/<id> and refuses ..", () => {
  assert.equal(cgroupRelativePath("abc"), "berth/abc");
  assert.equal(cgroupRelativePath("abc", "/my/path"), "my/path");
  assert.throws(() => cgroupRelativePath("abc", "/a/../../etc"), /cgroupsPath/);
});

Deno.test("deviceRule() writes the devices cgroup syntax", () => {
  assert.equal(deviceRule({ allow: false }), "a");
  assert.equal(deviceRule({ allow: true, type: "c", access: "m" }), "c *:* m");
  assert.equal(
    deviceRule({ allow: true, type: "c", major: 136, minor: -1, access: "rwm" }),
    "c 136:* rwm",
  );
  assert.equal(deviceRule({ allow: true, type: "b", major: 8, minor: 0, access: "r" }), "b 8:0 r");
});
