/**
 * Start-up benchmark (not a test): `/bin/true` in a busybox bundle, median
 * of N runs, for `berth runtime run`, `runc run`, `crun run` and a bare
 * `unshare ... chroot`. Run as root: `deno run -A tests/runtime/bench_runtime.ts [N]`.
 */
import { makeBundle, REPO } from "./_bundle.ts";

const runs = Number(Deno.args[0] ?? 20);
const b = makeBundle();
b.write({ args: ["/bin/true"] });

/** Runs one sample of `cmd`; the duration in ms, or the failure's last stderr line. */
async function once(cmd: string[], i: number): Promise<number | string> {
  const argv = cmd.map((a) => a.replaceAll("@ID", `bench-${Deno.pid}-${i}`));
  const t0 = performance.now();
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  return out.success
    ? ms
    : `failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)}`;
}

const which = (name: string): string | undefined =>
  ["/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"].map((d) => d + name).find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });

const cases: [string, string[] | undefined][] = [
  ["unshare+chroot", [
    "unshare",
    "--fork",
    "--pid",
    "--mount-proc",
    "--uts",
    "--ipc",
    "--net",
    "chroot",
    `${b.dir}/rootfs`,
    "/bin/true",
  ]],
  [
    "crun run",
    which("crun")
      ? [which("crun")!, "--root", `${b.dir}/crun`, "run", "--bundle", b.dir, "@ID"]
      : undefined,
  ],
  [
    "crun run (no cgroup)",
    which("crun")
      ? [
        which("crun")!,
        "--cgroup-manager=disabled",
        "--root",
        `${b.dir}/crun`,
        "run",
        "--bundle",
        b.dir,
        "@ID",
      ]
      : undefined,
  ],
  [
    "runc run",
    which("runc")
      ? [which("runc")!, "--root", `${b.dir}/runc`, "run", "--bundle", b.dir, "@ID"]
      : undefined,
  ],
  ["berth runtime run", [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    `${REPO}main.ts`,
    "runtime",
    "run",
    "--root",
    `${b.dir}/berth`,
    "--bundle",
    b.dir,
    "@ID",
  ]],
];
try {
  // Interleaved, so that load from elsewhere hits every tool alike.
  const samples = new Map<string, number[] | string>();
  for (let i = 0; i < runs; i++) {
    for (const [name, cmd] of cases) {
      const prev = samples.get(name) ?? [];
      if (typeof prev === "string") continue;
      if (cmd === undefined) {
        samples.set(name, "not installed");
        continue;
      }
      const r = await once(cmd, i);
      samples.set(name, typeof r === "string" ? r : [...prev, r]);
    }
  }
  for (const [name] of cases) {
    const v = samples.get(name)!;
    const median = typeof v === "string"
      ? undefined
      : v.sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
    // deno-lint-ignore no-console
    console.log(`${name.padEnd(20)} ${median === undefined ? v : `${median.toFixed(1)} ms`}`);
  }
} finally {
  b.close();
}
