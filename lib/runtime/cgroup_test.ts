import assert from "node:assert/strict";
import {
  cgroupRelativePath,
  cgroupVersion,
  createCgroup,
  deviceRule,
  oomKilled,
  removeCgroup,
} from "./cgroup.ts";

const resources = {
  memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20 },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0", mems: "0" },
  pids: { limit: 10 },
};

const read = (path: string) => Deno.readTextFileSync(path);

Deno.test("createCgroup() writes v2 limits (memory.max, memory.swap.max, cpu.max, cpu.weight, pids.max)", async () => {
  const mount = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${mount}/cgroup.controllers`, "cpuset cpu io memory pids\n");
    Deno.mkdirSync(`${mount}/berth`);
    Deno.writeTextFileSync(`${mount}/berth/cgroup.controllers`, "cpu memory pids\n");
    assert.equal(cgroupVersion(mount), 2);
    const cg = createCgroup("berth/c1", resources, mount);
    const dir = `${mount}/berth/c1`;
    assert.deepEqual(cg, { version: 2, dirs: { "": dir } });
    assert.equal(read(`${mount}/cgroup.subtree_control`), "+memory +pids +cpu +cpuset");
    assert.equal(read(`${mount}/berth/cgroup.subtree_control`), "+memory +pids +cpu");
    assert.equal(read(`${dir}/memory.max`), String(64 << 20));
    assert.equal(read(`${dir}/memory.swap.max`), String(64 << 20));
    assert.equal(read(`${dir}/memory.low`), String(32 << 20));
    assert.equal(read(`${dir}/cpu.max`), "50000 100000");
    assert.equal(read(`${dir}/cpu.weight`), "20");
    assert.equal(read(`${dir}/pids.max`), "10");
    assert.equal(read(`${dir}/cpuset.cpus`), "0");
    Deno.writeTextFileSync(`${dir}/memory.events`, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    assert.equal(oomKilled(cg), true);
    for (const f of Deno.readDirSync(dir)) Deno.removeSync(`${dir}/${f.name}`);
    assert.equal(await removeCgroup(cg), true);
    assert.throws(() => Deno.statSync(dir));
  } finally {
    Deno.removeSync(mount, { recursive: true });
  }
});

Deno.test("createCgroup() writes v1 limits per controller", async () => {
  const mount = Deno.makeTempDirSync();
  try {
    for (const c of ["memory", "pids", "cpu", "cpuset"]) {
      Deno.mkdirSync(`${mount}/${c}`);
      Deno.writeTextFileSync(`${mount}/${c}/cgroup.procs`, "");
    }
    Deno.writeTextFileSync(`${mount}/cpuset/cpuset.cpus`, "0-1");
    Deno.writeTextFileSync(`${mount}/cpuset/cpuset.mems`, "0");
    assert.equal(cgroupVersion(mount), 1);
    const cg = createCgroup("berth/c1", resources, mount);
    assert.deepEqual(Object.keys(cg.dirs).sort(), ["cpu", "cpuset", "memory", "pids"]);
    assert.equal(read(`${mount}/cpuset/berth/cpuset.cpus`), "0-1", "the parent's CPUs first");
    assert.equal(read(`${mount}/cpuset/berth/c1/cpuset.cpus`), "0");
    assert.equal(read(`${mount}/memory/berth/c1/memory.limit_in_bytes`), String(64 << 20));
    assert.equal(read(`${mount}/memory/berth/c1/memory.memsw.limit_in_bytes`), String(128 << 20));
    assert.equal(read(`${mount}/cpu/berth/c1/cpu.shares`), "512");
    assert.equal(read(`${mount}/cpu/berth/c1/cpu.cfs_quota_us`), "50000");
    assert.equal(read(`${mount}/pids/berth/c1/pids.max`), "10");
    assert.equal(oomKilled(cg), false);
    for (const dir of Object.values(cg.dirs)) {
      for (const f of Deno.readDirSync(dir)) Deno.removeSync(`${dir}/${f.name}`);
    }
    assert.equal(await removeCgroup(cg), true);
  } finally {
    Deno.removeSync(mount, { recursive: true });
  }
});

Deno.test("createCgroup() fails when a limit needs a controller that is not mounted", () => {
  const mount = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${mount}/memory`);
    Deno.writeTextFileSync(`${mount}/memory/cgroup.procs`, "");
    assert.throws(
      () => createCgroup("berth/c2", { pids: { limit: 5 } }, mount),
      /"pids" cgroup controller is not mounted/,
    );
    assert.throws(
      () => Deno.statSync(`${mount}/memory/berth/c2`),
      "the half-made cgroup is removed",
    );
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
