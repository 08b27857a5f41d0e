import assert from "node:assert/strict";
import { ConflictError, NotFoundError } from "../../errors.ts";
import { NetworkStore } from "./store.ts";

async function withStore(fn: (s: NetworkStore, root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "berth-net-" });
  try {
    await fn(new NetworkStore(root, `${root}/tmp`, { routes: () => [] }), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("NetworkStore keeps records in networks/<id>.json, predefined ones made once", async () => {
  await withStore(async (s, root) => {
    const first = await s.list();
    assert.deepEqual(first.map((r) => r.Name), ["bridge", "host", "none"]);
    assert.deepEqual((await s.list()).map((r) => r.Id), first.map((r) => r.Id));
    const web = await s.create("web", { labels: { a: "b" } });
    const again = new NetworkStore(root, `${root}/tmp`, { routes: () => [] });
    assert.deepEqual(await again.get("web"), web);
    assert.deepEqual(await again.get(web.Id.slice(0, 5)), web);
    assert.deepEqual(
      JSON.parse(Deno.readTextFileSync(`${root}/networks/${web.Id}.json`)),
      web,
    );
    assert.equal(web.IPAM.Config[0]!.Subnet, "10.90.0.0/16");
  });
});

Deno.test("NetworkStore.remove() refuses predefined and busy networks, then removes", async () => {
  await withStore(async (s, root) => {
    await assert.rejects(() => s.remove("bridge"), {
      name: ConflictError.name,
      message: "bridge is a pre-defined network and cannot be removed",
    });
    const web = await s.create("web");
    const ep = await s.allocate("web", "c1", { name: "app" });
    assert.equal(ep.IPv4Address, "10.90.0.2/16");
    assert.equal((await s.get("web")).Containers.c1?.Name, "app");
    await assert.rejects(() => s.remove("web"), {
      message: `error while removing network: network web id ${web.Id} has active endpoints`,
    });
    assert.deepEqual(await s.prune(), []);
    assert.equal(await s.release("web", "c1"), true);
    assert.equal(await s.release("web", "c1"), false);
    await s.remove(web.Id);
    await assert.rejects(() => s.get("web"), {
      name: NotFoundError.name,
      message: "No such network: web",
    });
    assert.equal(await s.release("web", "c1"), false);
    assert.deepEqual([...Deno.readDirSync(`${root}/networks`)].length, 3);
  });
});

Deno.test("NetworkStore.prune() removes unused user networks only", async () => {
  await withStore(async (s) => {
    await s.create("a");
    await s.create("b", { labels: { keep: "1" } });
    await s.create("c");
    await s.allocate("c", "x");
    const gone = await s.prune((r) => "keep" in r.Labels);
    assert.deepEqual(gone.map((r) => r.Name), ["a"]);
    assert.deepEqual((await s.list()).map((r) => r.Name), ["b", "bridge", "c", "host", "none"]);
  });
});

Deno.test("NetworkStore.allocate() never gives one address twice to two processes at once", async () => {
  await withStore(async (s, root) => {
    await s.create("race", { subnets: ["10.77.0.0/24"] });
    const store = new URL("./store.ts", import.meta.url).href;
    const script = (tag: string) =>
      `import { NetworkStore } from "${store}";
      const s = new NetworkStore(${JSON.stringify(root)}, ${JSON.stringify(`${root}/tmp`)});
      for (let i = 0; i < 25; i++) await s.allocate("race", "${tag}" + i);`;
    const procs = ["p", "q"].map((tag) =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", script(tag)],
        stdout: "null",
        stderr: "piped",
      }).output()
    );
    for (const out of await Promise.all(procs)) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    const leases = Object.values((await s.get("race")).Containers).map((e) => e.IPv4Address);
    assert.equal(leases.length, 50);
    assert.equal(new Set(leases).size, 50);
  });
});

Deno.test("NetworkStore.dropLeases() ends the leases of containers that are gone, on every network", async () => {
  await withStore(async (s) => {
    await s.create("a");
    await s.create("b");
    for (const [net, c] of [["a", "live"], ["a", "dead"], ["b", "dead"], ["bridge", "gone"]]) {
      await s.allocate(net!, c!);
    }
    assert.deepEqual(await s.releaseContainer("gone"), ["bridge"]);
    assert.deepEqual(await s.dropLeases((id) => id !== "live"), ["a", "b"]);
    assert.deepEqual(Object.keys((await s.get("a")).Containers), ["live"]);
    assert.deepEqual((await s.get("b")).Containers, {});
    assert.deepEqual(await s.dropLeases(() => true), ["a"]);
  });
});
