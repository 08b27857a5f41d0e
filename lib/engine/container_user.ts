/**
 * `-u`/`USER` resolution against the image's own `/etc/passwd` and
 * `/etc/group`, read from its extracted layers (top layer first), as Docker
 * does: `name`, `uid`, `name:group`, `uid:gid`, and the groups the process
 * holds besides: its primary group, the groups of `/etc/group` that list the
 * user (only when no group was given, as runc's `GetExecUser`), and
 * `--group-add`'s. So `id` in a container shows `groups=` as in Docker's.
 *
 * @module
 */
import { EngineError } from "../errors.ts";

/** A resolved user. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** The supplementary groups, the primary group first (Docker's `AdditionalGids`). */
  additionalGids: number[];
  home: string;
}

/** Reads `path` (e.g. `etc/passwd`) from the topmost layer that has it. */
function readFromLayers(layers: readonly string[], path: string): string | undefined {
  for (const dir of layers) {
    try {
      const info = Deno.lstatSync(`${dir}/${path}`);
      // A 0/0 char device is an overlay whiteout: the file was deleted in this layer.
      if (info.isCharDevice || !info.isFile) return undefined;
      return Deno.readTextFileSync(`${dir}/${path}`);
    } catch {
      // not in this layer
    }
  }
  return undefined;
}

function table(text: string | undefined): string[][] {
  return (text ?? "").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")).map((l) =>
    l.split(":")
  );
}

const MAX_ID = 0xffffffff - 1;

/**
 * Resolves `spec` (`""` means root, as the image's default user) inside the
 * image whose layer dirs are `layers` (top first), with `groupAdd`
 * (`--group-add`: group names or numeric IDs) added to its groups.
 * @throws {EngineError} `unable to find user nope: no matching entries in passwd file`
 */
export function resolveUser(
  spec: string,
  layers: readonly string[],
  groupAdd: readonly string[] = [],
): ResolvedUser {
  const [userPart, groupPart] = (spec === "" ? "0" : spec).split(":", 2) as [
    string,
    string | undefined,
  ];
  const passwd = table(readFromLayers(layers, "etc/passwd"));
  const groups = table(readFromLayers(layers, "etc/group"));
  const numeric = /^\d+$/.test(userPart);
  const entry = passwd.find((p) => (numeric ? p[2] === userPart : p[0] === userPart));
  if (entry === undefined && !numeric) {
    throw new EngineError(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  const uid = numeric ? Number(userPart) : Number(entry![2]);
  let gid = entry === undefined ? 0 : Number(entry[3]);
  if (groupPart !== undefined && groupPart !== "") {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const group = groups.find((g) => g[0] === groupPart);
      if (group === undefined) {
        throw new EngineError(
          `unable to find group ${groupPart}: no matching entries in group file`,
        );
      }
      gid = Number(group[2]);
    }
  }
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid > MAX_ID || gid > MAX_ID) {
    throw new EngineError(`Invalid user "${spec}"`);
  }
  const name = entry?.[0];
  // runc: the groups that list the user count only when no group was named.
  const member = name === undefined || groupPart !== undefined ? [] : groups
    .filter((g) => (g[3] ?? "").split(",").includes(name))
    .map((g) => Number(g[2]));
  const added = groupAdd.map((g) => {
    if (/^\d+$/.test(g)) {
      if (Number(g) > MAX_ID) throw new EngineError(`Unable to find group ${g}`);
      return Number(g);
    }
    const group = groups.find((e) => e[0] === g);
    if (group === undefined) {
      throw new EngineError(`Unable to find group ${g}: no matching entries in group file`);
    }
    return Number(group[2]);
  });
  const additionalGids = [...new Set([gid, ...member, ...added])];
  return { uid, gid, additionalGids, home: entry?.[5] ?? (spec === "" ? "/root" : "/") };
}
