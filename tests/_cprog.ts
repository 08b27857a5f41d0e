/**
 * Small static C programs for tests that must make a syscall no busybox
 * applet makes (keyctl, name_to_handle_at, unshare flags, file capabilities):
 * compiled once per test process with the host's gcc (`scripts/setup.sh`
 * installs gcc and libc6-dev), statically, so they run in a busybox rootfs.
 */

const built = new Map<string, string>();
let dir: string | undefined;

/**
 * Compiles `source` (C) into a static executable and returns its path; the
 * same source compiles once per process. The file lives in a temp dir that
 * is removed when the process exits.
 * @throws {Error} with gcc's output when compiling fails
 */
export function staticProgram(name: string, source: string): string {
  const have = built.get(source);
  if (have !== undefined) return have;
  if (dir === undefined) {
    const made = Deno.makeTempDirSync({ prefix: "berth-cprog-" });
    dir = made;
    globalThis.addEventListener("unload", () => Deno.removeSync(made, { recursive: true }));
  }
  const src = `${dir}/${name}.c`;
  const out = `${dir}/${name}`;
  Deno.writeTextFileSync(src, source);
  const result = new Deno.Command("gcc", {
    args: ["-static", "-O1", "-o", out, src],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!result.success) {
    throw new Error(`gcc ${name}.c failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
  built.set(source, out);
  return out;
}
