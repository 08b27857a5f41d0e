/**
 * `linux.namespaces` as the runtime-spec says, for every type: listed
 * without a path, a new namespace; with a path, that one (a path of another
 * type, or not a namespace, is refused before anything is made); absent,
 * the caller's. Namespaces to join come from util-linux `unshare` holders.
 * Runs as root (CI does).
 */
import assert from "node:assert/strict";
import { NAMESPACE_FILES } from "../../ffi/ns.ts";
import type { Spec } from "../../lib/runtime/mod.ts";
import { makeBundle, runScript, SKIP_REASON, type TestBundle } from "./_bundle.ts";

const ignore = SKIP_REASON !== undefined;

const TYPES = ["pid", "network", "ipc", "uts", "mount", "cgroup"] as const;
type NsType = typeof TYPES[number];
const UNSHARE_FLAG: Record<NsType, string> = {
  pid: "--pid",
  network: "--net",
  ipc: "--ipc",
  uts: "--uts",
  mount: "--mount",
  cgroup: "--cgroup",
};

const link = (path: string) => Deno.readLinkSync(path);
const hostNs = (type: NsType) => link(`/proc/self/ns/${NAMESPACE_FILES[type]}`);

/** Prints each type's /proc/self/ns link, one per line, in TYPES order. */
const PRINT_NS = TYPES.map((t) => `readlink /proc/self/ns/${NAMESPACE_FILES[t]}`).join("; ");

const runSpec = (b: TestBundle, edit: (spec: Spec) => void) => runScript(b, PRINT_NS, edit, "ns");

/** The container's links by type. */
function parse(stdout: string): Record<NsType, string> {
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, TYPES.length, stdout);
  return Object.fromEntries(TYPES.map((t, i) => [t, lines[i]!])) as Record<NsType, string>;
}

/** A process holding a new namespace of `type` (`unshare --fork --kill-child sleep`). */
async function holder(type: NsType): Promise<{ path: string; close(): Promise<void> }> {
  const child = new Deno.Command("unshare", {
    args: [UNSHARE_FLAG[type], "--fork", "--kill-child", "sleep", "1000"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const close = async () => {
    child.kill("SIGKILL");
    await child.status;
  };
  // A new PID namespace is the one of unshare's children.
  const path = `/proc/${child.pid}/ns/${NAMESPACE_FILES[type]}${
    type === "pid" ? "_for_children" : ""
  }`;
  for (let i = 0; i < 300; i++) {
    try {
      if (link(path) !== hostNs(type)) return { path, close };
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await close();
  throw new Error(`unshare ${UNSHARE_FLAG[type]} did not make a namespace`);
}

const setNs = (spec: Spec, type: string, path: string | undefined) => {
  spec.linux!.namespaces = spec.linux!.namespaces!.map((n) =>
    n.type === type ? (path === undefined ? { type } : { type, path }) : n
  );
};

Deno.test(
  { name: "runtime run: every listed namespace without a path is new", ignore },
  async () => {
    const b = makeBundle();
    try {
      const r = await runSpec(b, () => {});
      assert.equal(r.code, 0, r.stderr);
      const inside = parse(r.stdout);
      for (const t of TYPES) assert.notEqual(inside[t], hostNs(t), `${t} is new`);
    } finally {
      b.close();
    }
  },
);

Deno.test(
  { name: "runtime run: a namespace with a path is joined, for every type", ignore },
  async (t) => {
    const b = makeBundle();
    try {
      for (const type of TYPES) {
        await t.step(type, async () => {
          const h = await holder(type);
          try {
            const r = await runSpec(b, (spec) => setNs(spec, type, h.path));
            assert.equal(r.code, 0, r.stderr);
            const inside = parse(r.stdout);
            assert.equal(inside[type], link(h.path), `${type} is the path's`);
            for (const other of TYPES) {
              if (other !== type) assert.notEqual(inside[other], hostNs(other), `${other} is new`);
            }
          } finally {
            await h.close();
          }
        });
      }
    } finally {
      b.close();
    }
  },
);

Deno.test({ name: "runtime run: an absent namespace type is the caller's", ignore }, async (t) => {
  const b = makeBundle();
  try {
    for (const type of TYPES) {
      await t.step(type, async () => {
        const r = await runSpec(b, (spec) => {
          spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== type);
          if (type === "uts") delete spec.hostname;
        });
        assert.equal(r.code, 0, r.stderr);
        const inside = parse(r.stdout);
        assert.equal(inside[type], hostNs(type), `${type} is the host's`);
        for (const other of TYPES) {
          if (other !== type) assert.notEqual(inside[other], hostNs(other), `${other} is new`);
        }
      });
    }
  } finally {
    b.close();
  }
});

/** Runs a spec that must be refused: exit 125, one line naming `pattern`, nothing left. */
async function refused(b: TestBundle, edit: (spec: Spec) => void, pattern: RegExp) {
  const r = await runSpec(b, edit);
  assert.equal(r.code, 125, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
}

Deno.test(
  { name: "runtime run: a namespace path of another type is refused, nothing left", ignore },
  async (t) => {
    const b = makeBundle();
    try {
      // Each type given another type's namespace (runtime-tools' linux_ns_path_type pairs).
      const wrong: Record<NsType, string> = {
        cgroup: "ipc",
        ipc: "mnt",
        mount: "net",
        network: "pid",
        pid: "uts",
        uts: "cgroup",
      };
      for (const type of TYPES) {
        await t.step(type, async () => {
          const path = `/proc/self/ns/${wrong[type]}`;
          await refused(
            b,
            (spec) => setNs(spec, type, path),
            new RegExp(`"${path}" is a "[a-z]+" namespace, not "${type}"`),
          );
        });
      }
      await t.step("a file that is not a namespace", async () => {
        await refused(
          b,
          (spec) => setNs(spec, "network", "/etc/hostname"),
          /"\/etc\/hostname" is not a namespace/,
        );
      });
      await t.step("a path that does not exist", async () => {
        await refused(
          b,
          (spec) => setNs(spec, "ipc", "/proc/self/ns/nope"),
          /cannot open "linux.namespaces\[\d\].path" "\/proc\/self\/ns\/nope"/,
        );
      });
    } finally {
      b.close();
    }
  },
);

/** A host sysctl's value now: a spec that should be refused sets it as it is, harmless if it is not. */
const sysctl = (key: string) =>
  Deno.readTextFileSync(`/proc/sys/${key.replaceAll(".", "/")}`).trim();

Deno.test(
  { name: "runtime run: specs that would change the host's namespaces are refused", ignore },
  async (t) => {
    const b = makeBundle();
    try {
      await t.step("a hostname without a uts namespace", async () => {
        await refused(b, (spec) => {
          spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "uts");
          spec.hostname = Deno.hostname();
        }, /"hostname" needs a "uts" namespace/);
      });
      await t.step("a net sysctl without a network namespace", async () => {
        await refused(b, (spec) => {
          spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "network");
          spec.linux!.sysctl = { "net.ipv4.ip_forward": sysctl("net.ipv4.ip_forward") };
        }, /sysctl "net.ipv4.ip_forward" needs a "network" namespace/);
      });
      await t.step("a sysctl the host has only once", async () => {
        await refused(b, (spec) => {
          spec.linux!.sysctl = { "vm.swappiness": sysctl("vm.swappiness") };
        }, /sysctl "vm.swappiness" is not in a namespace/);
      });
      await t.step("a type listed twice", async () => {
        await refused(b, (spec) => {
          spec.linux!.namespaces!.push({ type: "ipc" });
        }, /lists "ipc" twice/);
      });
      await t.step("a user namespace", async () => {
        await refused(b, (spec) => {
          spec.linux!.namespaces!.push({ type: "user" });
        }, /"user" is not supported: berth's init cannot enter a new user namespace/);
      });
      await t.step("the caller's own mount namespace as a path", async () => {
        // Joined, it would get the container's root propagation, pivot_root and detach: the host's.
        const before = Deno.readTextFileSync("/proc/self/mountinfo");
        await refused(b, (spec) => {
          const mount = spec.linux!.namespaces!.find((n) => n.type === "mount")!;
          mount.path = "/proc/self/ns/mnt";
        }, /"linux.namespaces\[\d\].path" is the caller's mount namespace/);
        assert.equal(Deno.readTextFileSync("/proc/self/mountinfo"), before);
      });
      await t.step("the host's root as the rootfs, without a mount namespace", async () => {
        // Its propagation would go private for the whole host, and delete would detach at "/".
        const before = Deno.readTextFileSync("/proc/self/mountinfo");
        await refused(b, (spec) => {
          spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "mount");
          spec.root.path = "/";
        }, /"root.path" "\/" is the host's root: a container without a mount namespace needs/);
        assert.equal(Deno.readTextFileSync("/proc/self/mountinfo"), before);
      });
      await t.step("uid mappings without a user namespace", async () => {
        await refused(b, (spec) => {
          Object.assign(spec.linux!, { uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] });
        }, /"linux.uidMappings" needs a "user" namespace/);
      });
    } finally {
      b.close();
    }
  },
);
