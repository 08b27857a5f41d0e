/**
 * Resolves a path inside a root directory the way the container will see
 * it: symlinks (absolute or with `..`) never lead out of the root
 * (like filepath-securejoin, which runc uses for mount targets).
 *
 * @module
 */

const MAX_LINKS = 255;

/**
 * Joins `unsafe` onto `root`, resolving each symlink within `root`.
 * Components that do not exist are kept as they are.
 * @returns an absolute host path under `root`
 * @throws {Error} on a symlink loop
 */
export function secureJoin(root: string, unsafe: string): string {
  const base = root.replace(/\/+$/, "");
  const pending = unsafe.split("/").filter((p) => p !== "" && p !== ".");
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      done.pop();
      continue;
    }
    const candidate = `${base}/${[...done, part].join("/")}`;
    let target: string | undefined;
    try {
      if (Deno.lstatSync(candidate).isSymlink) target = Deno.readLinkSync(candidate);
    } catch {
      // Missing: the rest is taken literally.
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw new Error(`Too many symlinks resolving "${unsafe}" in "${root}"`);
    }
    if (target.startsWith("/")) done.length = 0;
    pending.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
  }
  return done.length === 0 ? base : `${base}/${done.join("/")}`;
}
