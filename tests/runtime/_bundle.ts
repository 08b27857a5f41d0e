/**
 * Helpers for the runtime's integration tests: a busybox rootfs built from
 * the host's busybox-static, bundles written with `defaultSpec`, running
 * `berth runtime ...` as a user would, and the leftovers check (mounts,
 * cgroups, processes) every test ends with.
 */
import assert from "node:assert/strict";
import {
  defaultSpec,
  type DefaultSpecOptions,
  deleteContainer,
  type Spec,
} from "../../lib/runtime/mod.ts";

export const REPO = new URL("../../", import.meta.url).pathname;
const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/** Why the runtime tests cannot run here, or undefined when they can. */
export const SKIP_REASON: string | undefined = Deno.uid() !== 0
  ? "needs root"
  : BUSYBOX === undefined
  ? "needs busybox-static"
  : undefined;

/** The argv that re-executes berth from this checkout (the runtime's `self`). */
export const SELF = [
  Deno.execPath(),
  "run",
  "-A",
  "--quiet",
  "--config",
  `${REPO}deno.json`,
  `${REPO}main.ts`,
];

/** Makes a busybox rootfs in `dir` (bin/busybox plus one symlink per applet). */
export function makeRootfs(dir: string): void {
  for (const d of ["bin", "proc", "dev", "sys", "tmp", "etc", "mnt", "root"]) {
    Deno.mkdirSync(`${dir}/${d}`, { recursive: true });
  }
  Deno.copyFileSync(BUSYBOX!, `${dir}/bin/busybox`);
  Deno.chmodSync(`${dir}/bin/busybox`, 0o755);
  const out = new Deno.Command(BUSYBOX!, { args: ["--list"], stdout: "piped" }).outputSync();
  for (const name of new TextDecoder().decode(out.stdout).split("\n")) {
    if (name === "" || name === "busybox") continue;
    Deno.symlinkSync("busybox", `${dir}/bin/${name}`);
  }
  Deno.writeTextFileSync(
    `${dir}/etc/passwd`,
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n",
  );
  Deno.writeTextFileSync(`${dir}/etc/noexec`, "not a program\n");
}

/** A temporary directory with a bundle in it; `close()` removes it. */
export interface TestBundle {
  dir: string;
  stateRoot: string;
  /** Writes config.json from `defaultSpec(options)` and then `edit`. */
  write(options: DefaultSpecOptions, edit?: (spec: Spec) => void): void;
  close(): void;
}

/** Creates a bundle dir with a fresh busybox rootfs. */
export function makeBundle(): TestBundle {
  const dir = Deno.makeTempDirSync({ prefix: "berth-rt-" });
  makeRootfs(`${dir}/rootfs`);
  return {
    dir,
    stateRoot: `${dir}/state`,
    write(options, edit) {
      const spec = defaultSpec({ hostname: "ctr", ...options });
      edit?.(spec);
      Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify(spec, null, 2));
    },
    close() {
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/** The result of a run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `berth runtime <args>` from the repo and captures its output. With
 * `detached`, output goes through a file: a created container inherits the
 * CLI's stdio and would hold pipes open (as with runc).
 */
export async function berthRuntime(
  args: string[],
  options: { detached?: boolean } = {},
): Promise<Run> {
  const argv = ["run", "-A", "--quiet", `${REPO}main.ts`, "runtime", ...args];
  const dec = new TextDecoder();
  if (options.detached) {
    const log = Deno.makeTempFileSync({ prefix: "berth-rt-log-" });
    try {
      const out = await new Deno.Command("/bin/sh", {
        args: ["-c", `exec "$0" "$@" >"${log}.out" 2>"${log}"`, Deno.execPath(), ...argv],
        cwd: REPO,
        stdin: "null",
        env: { NO_COLOR: "1" },
      }).output();
      return {
        code: out.code,
        stdout: Deno.readTextFileSync(`${log}.out`),
        stderr: Deno.readTextFileSync(log),
      };
    } finally {
      Deno.removeSync(log);
      Deno.removeSync(`${log}.out`);
    }
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: argv,
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** `runtime run` of the bundle's config; also returns the container's pid. */
export async function runBundle(
  b: TestBundle,
  id: string,
): Promise<Run & { pid: number | undefined }> {
  const pidFile = `${b.dir}/${id}.pid`;
  const r = await berthRuntime([
    "run",
    "--root",
    b.stateRoot,
    "--bundle",
    b.dir,
    "--pid-file",
    pidFile,
    id,
  ]);
  return { ...r, pid: readPid(pidFile) };
}

/**
 * Runs `sh -c script` in a fresh container of the bundle (its config edited
 * by `edit`), checks that nothing is left, and deletes it also on failure.
 */
export async function runScript(
  b: TestBundle,
  script: string,
  edit?: (spec: Spec) => void,
  prefix = "run",
): Promise<Run & { pid: number | undefined }> {
  const id = uniqueId(prefix);
  b.write({ args: ["sh", "-c", script] }, edit);
  try {
    const r = await runBundle(b, id);
    assertNoLeftovers(b, id, r.pid);
    return r;
  } finally {
    await cleanup(b, id);
  }
}

/** Removes whatever a failed test may have left (force delete through the library). */
export async function cleanup(b: TestBundle, id: string): Promise<void> {
  try {
    await deleteContainer(b.stateRoot, id, { force: true });
  } catch {
    // nothing to delete
  }
}

/** Mount points of this (host) mount namespace under `dir`. */
export function mountsUnder(dir: string): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** Whether a process with this pid exists (and is not a zombie). */
export function processExists(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\S+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Reads a pid file, or undefined. */
export function readPid(path: string): number | undefined {
  try {
    return Number(Deno.readTextFileSync(path).trim());
  } catch {
    return undefined;
  }
}

/** Asserts that nothing of container `id` from bundle `b` is left on the host. */
export function assertNoLeftovers(b: TestBundle, id: string, pid?: number): void {
  assert.deepEqual(mountsUnder(b.dir), [], "mounts left under the bundle");
  // Every hierarchy the host mounts (blkio, hugetlb, net_cls... where it has them) and a v2 root.
  const hierarchies = [...Deno.readDirSync("/sys/fs/cgroup")]
    .filter((e) => e.isDirectory).map((e) => e.name);
  for (const ctrl of [...hierarchies, ""]) {
    let exists = true;
    try {
      Deno.statSync(`/sys/fs/cgroup/${ctrl}/berth/${id}`.replace("//", "/"));
    } catch {
      exists = false;
    }
    assert.equal(exists, false, `cgroup ${ctrl}/berth/${id} left`);
  }
  if (pid !== undefined) assert.equal(processExists(pid), false, `process ${pid} left`);
  let stateLeft = true;
  try {
    Deno.statSync(`${b.stateRoot}/${id}`);
  } catch {
    stateLeft = false;
  }
  assert.equal(stateLeft, false, "state dir left");
}

let counter = 0;
/** A container id unique to this test process. */
export function uniqueId(prefix = "t"): string {
  return `${prefix}-${Deno.pid}-${++counter}`;
}
