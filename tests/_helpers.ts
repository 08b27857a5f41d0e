/**
 * Helpers for integration tests: run berth as a user would
 * (`deno run -A main.ts --root DIR ...`), make busybox rootfs tarballs from
 * the host's busybox-static, and temp dirs that are always removed.
 */
export const REPO = new URL("../", import.meta.url).pathname;

// Every berth these tests start (and whatever it starts: conmon's exit command)
// defaults to `--network none`, so no test makes a bridge or an nftables table
// in the machine's own namespace. The network tests run berth in a scratch
// namespace and name their networks, or set BERTH_DEFAULT_NETWORK themselves.
Deno.env.set("BERTH_DEFAULT_NETWORK", "none");
// The health-check runner of a test's run root exits 0.5 s after its last checked
// container, not 10 s, so a test's end finds no berth process left.
Deno.env.set("BERTH_HEALTHD_IDLE_MS", "500");

/** The result of running a command. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs berth with `--root root` and `args`; `stdin` may be bytes or a file path to feed. */
/** Deno's arguments that run berth from this checkout with `--root ROOT` and `args`. */
export function berthArgs(root: string, args: string[]): string[] {
  return ["run", "-A", "--quiet", `${REPO}main.ts`, "--root", root, ...args];
}

export async function berth(
  root: string,
  args: string[],
  options: { stdin?: Uint8Array; env?: Record<string, string> } = {},
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: berthArgs(root, args),
    cwd: REPO,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...(options.env ?? {}) },
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin).catch(() => {});
    await writer.close().catch(() => {});
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs any program and captures its output. */
export async function run(cmd: string, args: string[], cwd = REPO): Promise<Run> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Creates a temp dir, runs `fn`, and removes the dir whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "berth-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Writes a busybox rootfs tarball (gzip when the name ends in .gz) with scripts/mkrootfs.sh. */
export async function makeRootfs(path: string): Promise<string> {
  const out = await run("bash", [`${REPO}scripts/mkrootfs.sh`, path]);
  if (out.code !== 0) throw new Error(`mkrootfs failed: ${out.stderr}`);
  return path;
}

/** Whether a program is on PATH (interop tests need the reference tools). */
export function have(program: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      Deno.statSync(`${dir}/${program}`);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** Names of the entries of a directory (empty when it is absent). */
export function listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}
