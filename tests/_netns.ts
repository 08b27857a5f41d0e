/**
 * The scratch network namespace the network tests run berth in. Each test
 * makes its own (`ip netns add berth-test-TAG-xxxxxxxx`) and removes it
 * afterwards, also on failure, so no link, address, route or nftables rule
 * ever reaches the machine's own namespace. berth is run there with
 * `nsenter --net` (`ip netns exec` would remount /sys, which hides the
 * cgroup controllers from berth), on a temp `--root` and `--run-root`.
 * The environment of tests/_helpers.ts applies: berth defaults to
 * `--network none` unless a test passes `BERTH_DEFAULT_NETWORK` itself.
 */
import assert from "node:assert/strict";
import { berthArgs, makeRootfs, type Run, withTempDir } from "./_helpers.ts";
import { processesMentioning } from "./_containers.ts";

/** What a program run by `sh` gets besides its arguments. */
export interface ShOptions {
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  /** Fed to the program's stdin (otherwise it reads /dev/null). */
  stdin?: Uint8Array | undefined;
}

/** Runs a program and captures its output. */
export async function sh(cmd: string, args: string[], options: ShOptions = {}): Promise<Run> {
  const child = new Deno.Command(cmd, {
    args,
    env: options.env ?? {},
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    await ReadableStream.from([options.stdin]).pipeTo(child.stdin).catch(() => {});
  }
  const out = await child.output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** Runs a program, asserts it exits 0 and returns its stdout. */
export async function must(cmd: string, args: string[]): Promise<string> {
  const out = await sh(cmd, args);
  assert.equal(out.code, 0, `${cmd} ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

/** Runs berth with `args` (in the scratch namespace, on the test's root). */
export type Berth = (args: string[], options?: ShOptions) => Promise<Run>;

/** Runs berth, asserts it exits 0 and returns its stdout. */
export async function ok(b: Berth, args: string[]): Promise<string> {
  const out = await b(args);
  assert.equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

/** `run --rm --network NETWORK busybox sh -c SCRIPT`: a throwaway container's shell. */
export function shOn(b: Berth, network: string, script: string): Promise<Run> {
  return b(["run", "--rm", "--network", network, "busybox", "sh", "-c", script]);
}

/**
 * Starts container `web` on `network` with busybox httpd serving `text` as
 * /index.html on port 80, asserting it started; its address on that network.
 */
export async function serveOn(b: Berth, network: string, text: string): Promise<string> {
  const web = await b([
    ...["run", "-d", "--name", "web", "--network", network, "busybox", "sh", "-c"],
    `echo ${text} > /tmp/index.html; httpd -f -p 80 -h /tmp`,
  ]);
  assert.equal(web.code, 0, web.stderr);
  const format = `{{.NetworkSettings.Networks.${network}.IPAddress}}`;
  return (await b(["inspect", "-f", format, "web"])).stdout.trim();
}

/** A shell line that runs `cmd` up to `times` times, `pause` seconds apart, until it succeeds. */
export function retry(cmd: string, times = 20, pause = 0.1): string {
  return `for i in $(seq ${times}); do ${cmd} && exit 0; sleep ${pause}; done; exit 1`;
}

/** The addresses of the veth between berth's namespace and "the outside". */
export const OUTSIDE = { inner: "10.200.0.1", outer: "10.200.0.2" } as const;

/** What differs between the network tests. */
export interface ScratchOptions {
  /** In the namespace's name (`berth-test-TAG-...`): which test file made it. */
  tag: string;
  /**
   * The `--change`s of the busybox image imported as `busybox` before the
   * test (default `CMD ["sh"]`); false imports nothing.
   */
  image?: string[] | false;
  /**
   * Also make a second namespace, "the outside", joined to berth's by a veth
   * (`up0` with OUTSIDE.inner/24 on berth's side, `down0` with OUTSIDE.outer/24
   * there) and with no route to any container subnet; lo is up in both.
   */
  outside?: boolean;
}

/** One test's scratch namespace and berth root. */
export interface Scratch {
  /** The scratch namespace berth runs in. */
  ns: string;
  /** "The outside" namespace, when asked for. */
  outside?: string;
  /** The test's temp dir (root, run root and rootfs tarball live in it). */
  dir: string;
  /** berth's `--root`. */
  root: string;
  b: Berth;
  /** Runs a program inside the scratch namespace. */
  inNs: (cmd: string, args: string[]) => Promise<Run>;
  /** `ip -j ARGS` inside the scratch namespace, parsed. */
  ipj: (args: string[]) => Promise<unknown[]>;
  /** The names of the namespace's links (of one `type`, when given), sorted. */
  links: (type?: string) => Promise<string[]>;
  /** The names of the namespace's veths, sorted. */
  veths: () => Promise<string[]>;
  /** Leases over every network of the root. */
  leases: () => number;
  /** Imports the busybox rootfs as `name` with `--change`s, asserting it worked. */
  importBusybox: (name: string, changes: string[]) => Promise<void>;
  /** The full IDs of every container of the root. */
  containers: () => Promise<string[]>;
  /** `rm -f` of every container, then waits until no process mentions the root. */
  removeAll: () => Promise<void>;
  /** GETs a URL from inside the namespace, retried while the server starts; the body, trimmed. */
  fetchIn: (url: string) => Promise<string>;
}

/** Makes the scratch namespace(s) and a berth root, runs `fn`, and removes it all. */
export async function withScratchNet(
  options: ScratchOptions,
  fn: (env: Scratch) => Promise<void>,
): Promise<void> {
  const id = crypto.randomUUID().slice(0, 8);
  const ns = `berth-test-${options.tag}-${id}`;
  const outside = options.outside ? `berth-test-${options.tag}-out-${id}` : undefined;
  await must("ip", ["netns", "add", ns]);
  try {
    if (outside !== undefined) await joinOutside(ns, outside);
    await withTempDir(async (dir) => {
      const root = `${dir}/root`;
      const b: Berth = (args, opts = {}) =>
        sh("nsenter", [
          `--net=/run/netns/${ns}`,
          Deno.execPath(),
          ...berthArgs(root, ["--run-root", `${dir}/run`, ...args]),
        ], { env: { NO_COLOR: "1", ...(opts.env ?? {}) }, stdin: opts.stdin });
      const inNs = (cmd: string, args: string[]) =>
        sh("nsenter", [`--net=/run/netns/${ns}`, cmd, ...args]);
      const ipj = async (args: string[]) =>
        JSON.parse(await must("ip", ["-n", ns, "-j", ...args]) || "[]") as unknown[];
      const links = async (type?: string) =>
        (await ipj(["link", "show", ...(type === undefined ? [] : ["type", type])]) as {
          ifname: string;
        }[]).map((l) => l.ifname).sort();
      const leases = () => {
        let n = 0;
        for (const e of Deno.readDirSync(`${root}/networks`)) {
          const record = JSON.parse(Deno.readTextFileSync(`${root}/networks/${e.name}`));
          n += Object.keys(record.Containers).length;
        }
        return n;
      };
      let tarball: string | undefined;
      const importBusybox = async (name: string, changes: string[]) => {
        tarball ??= await makeRootfs(`${dir}/rootfs.tar.gz`);
        const imported = await b([
          "import",
          ...changes.flatMap((c) => ["--change", c]),
          tarball,
          name,
        ]);
        assert.equal(imported.code, 0, imported.stderr);
      };
      const containers = async () =>
        (await b(["ps", "-aq", "--no-trunc"])).stdout.trim().split("\n").filter((l) => l !== "");
      const removeAll = async () => {
        for (const id of await containers()) await b(["rm", "-f", id]);
        for (let i = 0; i < 100 && processesMentioning(root).length > 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.deepEqual(processesMentioning(root), [], "no process of berth is left");
      };
      const fetchIn = async (url: string) => {
        const code = `const r = await fetch(${JSON.stringify(url)}); ` +
          `if (!r.ok) Deno.exit(2); console.log(await r.text());`;
        let last: Run | undefined;
        for (let i = 0; i < 50; i++) {
          last = await inNs(Deno.execPath(), ["eval", code]);
          if (last.code === 0) return last.stdout.trim();
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`no answer from ${url}: ${last?.stderr}`);
      };
      if (options.image !== false) {
        await importBusybox("busybox", options.image ?? ['CMD ["sh"]']);
      }
      const env: Scratch = {
        ns,
        dir,
        root,
        b,
        inNs,
        ipj,
        links,
        veths: () => links("veth"),
        leases,
        importBusybox,
        containers,
        removeAll,
        fetchIn,
        ...outside !== undefined && { outside },
      };
      try {
        await fn(env);
      } finally {
        await removeAll();
      }
    });
  } finally {
    if (outside !== undefined) await sh("ip", ["netns", "delete", outside]);
    await sh("ip", ["netns", "delete", ns]);
  }
}

/** Makes `outside` and the veth between it and `ns` (see ScratchOptions.outside). */
async function joinOutside(ns: string, outside: string): Promise<void> {
  await must("ip", ["netns", "add", outside]);
  await must("ip", [
    ...["-n", ns, "link", "add", "up0", "type", "veth"],
    ...["peer", "name", "down0", "netns", outside],
  ]);
  await must("ip", ["-n", ns, "addr", "add", `${OUTSIDE.inner}/24`, "dev", "up0"]);
  await must("ip", ["-n", ns, "link", "set", "up0", "up"]);
  await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
  await must("ip", ["-n", outside, "addr", "add", `${OUTSIDE.outer}/24`, "dev", "down0"]);
  await must("ip", ["-n", outside, "link", "set", "down0", "up"]);
  await must("ip", ["-n", outside, "link", "set", "lo", "up"]);
}

/** A program started in the background; `stop` kills it and waits for it. */
export interface Background {
  stop: () => Promise<void>;
}

/**
 * Starts `deno eval CODE` inside namespace `ns` and waits until its first
 * output matches `ready` (a server printing that it listens).
 */
export async function startIn(ns: string, code: string, ready: RegExp): Promise<Background> {
  const child = new Deno.Command("nsenter", {
    args: [`--net=/run/netns/${ns}`, Deno.execPath(), "eval", code],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // ended already
    }
    await child.stdout.cancel().catch(() => {});
    await child.status;
  };
  try {
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), ready);
    reader.releaseLock();
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop };
}
