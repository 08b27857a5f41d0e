import assert from "node:assert/strict";
import { ConflictError, InvalidError, NotFoundError } from "../errors.ts";
import {
  ANONYMOUS_LABEL,
  checkVolumeName,
  removeUnused,
  VolumeStore,
  volumeUsers,
} from "./volumes.ts";

function withStore(fn: (store: VolumeStore, root: string) => void): void {
  const root = Deno.makeTempDirSync({ prefix: "berth-volumes-" });
  try {
    fn(new VolumeStore(root, `${root}/tmp`), root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

Deno.test("volume names follow Docker's grammar, so none leaves volumes/", () => {
  for (const ok of ["ab", "my-vol", "a.b_c-1", "0x", "A1"]) assert.equal(checkVolumeName(ok), ok);
  for (const bad of ["a", "", "a/b", "..", ".x", "-x", "_x", "a b", "../etc", "x:y", "é1"]) {
    assert.throws(() => checkVolumeName(bad), (e: unknown) => {
      assert.ok(e instanceof InvalidError);
      assert.equal(
        e.message,
        `create ${bad}: "${bad}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
      return true;
    });
  }
});

Deno.test("create, get, ensure, list and remove a plain volume", () => {
  withStore((store, root) => {
    assert.deepEqual(store.list(), []);
    const v = store.create("data", { labels: { app: "web" } });
    assert.equal(v.Mountpoint, `${root}/volumes/data/_data`);
    assert.deepEqual(v.Labels, { app: "web" });
    assert.deepEqual(store.get("data"), v);
    assert.ok(store.isEmpty("data"));
    Deno.writeTextFileSync(`${v.Mountpoint}/f`, "x");
    assert.ok(!store.isEmpty("data"));
    assert.equal(store.size("data"), 1);
    // An existing name is returned as it is, its labels and data kept.
    assert.deepEqual(store.create("data", { labels: { other: "1" } }), v);
    assert.deepEqual(store.ensure("data"), v);
    const fresh = store.ensure("fresh");
    assert.equal(fresh.Name, "fresh");
    assert.deepEqual(store.list().map((x) => x.Name), ["data", "fresh"]);
    assert.deepEqual(store.mountFor("data"), {
      source: v.Mountpoint,
      type: "bind",
      options: ["rbind"],
    });
    store.remove("data");
    assert.throws(() => store.get("data"), NotFoundError);
    assert.throws(() => store.remove("data"), /No such volume: data/);
    assert.deepEqual([...Deno.readDirSync(`${root}/tmp`)], []);
    assert.throws(() => store.ensure("a/b"), InvalidError);
    assert.throws(() => store.get("../tmp"), NotFoundError);
  });
});

Deno.test("a volume is whole or absent: a half-made directory is not listed, a random name is 64 hex", () => {
  withStore((store, root) => {
    Deno.mkdirSync(`${root}/volumes/half/_data`, { recursive: true });
    assert.deepEqual(store.list(), []);
    assert.throws(() => store.get("half"), NotFoundError);
    const a = store.create();
    const b = store.create(undefined, { labels: { [ANONYMOUS_LABEL]: "" } });
    assert.match(a.Name, /^[0-9a-f]{64}$/);
    assert.notEqual(a.Name, b.Name);
    assert.deepEqual(b.Labels, { [ANONYMOUS_LABEL]: "" });
  });
});

Deno.test("local driver options: tmpfs and bind volumes mount as asked; bad ones are refused", () => {
  withStore((store, root) => {
    const t = store.create("tv", {
      options: { type: "tmpfs", device: "tmpfs", o: "size=64m,mode=1777,uid=0" },
    });
    // Containers bind its _data, where the host mounts the one tmpfs they share.
    assert.deepEqual(store.mountFor(t.Name), {
      source: `${root}/volumes/tv/_data`,
      type: "bind",
      options: ["rbind"],
    });
    store.mountOnHost("tv");
    try {
      const line = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
        .find((l) => l.split(" ")[4] === `${root}/volumes/tv/_data`);
      assert.match(line ?? "", / - tmpfs tmpfs .*size=65536k/);
      store.mountOnHost("tv"); // once only
      const count = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
        .filter((l) => l.split(" ")[4] === `${root}/volumes/tv/_data`).length;
      assert.equal(count, 1);
      assert.equal(store.isEmpty("tv"), true);
    } finally {
      store.unmountOnHost("tv");
    }
    assert.ok(
      !Deno.readTextFileSync("/proc/self/mountinfo").includes(`${root}/volumes/tv/_data`),
    );
    Deno.mkdirSync(`${root}/host`);
    store.create("hv", { options: { type: "none", o: "bind,ro", device: `${root}/host` } });
    assert.deepEqual(store.mountFor("hv"), {
      source: `${root}/host`,
      type: "bind",
      options: ["bind", "ro"],
    });
    assert.ok(store.isEmpty("hv"));
    Deno.writeTextFileSync(`${root}/host/f`, "x");
    assert.ok(!store.isEmpty("hv"));
    store.remove("hv");
    assert.equal(Deno.readTextFileSync(`${root}/host/f`), "x");
    assert.throws(
      () => store.create("tv", { options: { type: "tmpfs", device: "tmpfs", o: "size=1m" } }),
      ConflictError,
    );
    const refused: [Record<string, string>, string][] = [
      [{ foo: "1" }, 'invalid option: "foo"'],
      [{ type: "tmpfs" }, 'missing required option: "device"'],
      [{ device: "tmpfs" }, 'missing required option: "type"'],
      [{ size: "1g" }, "quota size requested but no quota support"],
      [{ type: "tmpfs", device: "tmpfs", o: "size=big" }, 'invalid tmpfs size: "big"'],
      [{ type: "tmpfs", device: "tmpfs", o: "mode=999" }, 'invalid tmpfs mode: "999"'],
      [{ type: "tmpfs", device: "tmpfs", o: "bogus" }, 'invalid tmpfs option "bogus"'],
      [{ type: "none", device: "/tmp", o: "ro" }, 'type "none" needs o=bind'],
      [{ type: "none", device: "tmp", o: "bind" }, 'device "tmp" is not an absolute path'],
      [{ type: "none", device: `${root}/no`, o: "bind" }, "no such file or directory"],
      [{ type: "none", device: "/etc/hostname", o: "bind" }, "is not a directory"],
      [{ type: "nfs", device: ":/x" }, 'volume type "nfs" is not supported'],
    ];
    for (const [options, text] of refused) {
      assert.throws(() => store.create("bad", { options }), (e: unknown) => {
        assert.ok(e instanceof InvalidError, String(e));
        assert.ok(e.message.startsWith("create bad: ") && e.message.includes(text), e.message);
        return true;
      });
    }
    assert.throws(() => store.create("bad", { driver: "nfs" }), NotFoundError);
    assert.throws(() => store.get("bad"), NotFoundError);
    assert.deepEqual([...Deno.readDirSync(`${root}/tmp`)], []);
  });
});

Deno.test("in use: any container record with a volume mount of it, running or not", () => {
  withStore((store) => {
    store.create("shared");
    store.create("free");
    const users = volumeUsers([
      { Id: "c1", Mounts: [{ Type: "volume", Name: "shared" }, { Type: "bind" }] },
      { Id: "c2", Mounts: [{ Type: "volume", Name: "shared" }] },
      { Id: "c3" },
      { Id: "c4", Mounts: [{ Type: "tmpfs" }] },
    ]);
    assert.deepEqual([...users], [["shared", ["c1", "c2"]]]);
    assert.throws(() => removeUnused(store, "shared", users), (e: unknown) => {
      assert.ok(e instanceof ConflictError);
      assert.equal(e.message, "remove shared: volume is in use - [c1, c2]");
      return true;
    });
    assert.ok(store.has("shared"));
    removeUnused(store, "free", users);
    assert.ok(!store.has("free"));
    assert.throws(() => removeUnused(store, "free", users), NotFoundError);
  });
});
