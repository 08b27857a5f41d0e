/**
 * `docker diff`: a container's changes read from its overlay upper dir. A
 * 0/0 character device is a deletion (D); a path the image's layers have is a
 * change (C); anything else was added (A). Parents of changes show as C, as
 * Docker prints them.
 *
 * @module
 */

/** One changed path. */
export interface Change {
  kind: "A" | "C" | "D";
  path: string;
}

function inLayers(layers: readonly string[], path: string): boolean {
  for (const dir of layers) {
    try {
      const info = Deno.lstatSync(`${dir}${path}`);
      return !(info.isCharDevice && info.rdev === 0);
    } catch {
      // not in this layer
    }
  }
  return false;
}

/** Walks `upper` (sorted by path) against the image's layer dirs (top first). */
export function upperDiff(upper: string, layers: readonly string[]): Change[] {
  const out: Change[] = [];
  const walk = (dir: string, rel: string): void => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)].sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0
      );
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = `${rel}/${entry.name}`;
      const info = Deno.lstatSync(`${dir}/${entry.name}`);
      if (info.isCharDevice && info.rdev === 0) {
        out.push({ kind: "D", path });
        continue;
      }
      out.push({ kind: inLayers(layers, path) ? "C" : "A", path });
      if (entry.isDirectory) walk(`${dir}/${entry.name}`, path);
    }
  };
  walk(upper, "");
  // Mount points berth itself adds are not the container's changes (Docker hides them too).
  const changes = out.filter((c) => !MOUNT_POINTS.includes(c.path));
  return changes.filter((c) =>
    c.kind !== "C" || !out.some((o) => o.path.startsWith(`${c.path}/`)) ||
    changes.some((o) => o.path.startsWith(`${c.path}/`))
  );
}

const MOUNT_POINTS = ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];
