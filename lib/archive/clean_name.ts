/**
 * Archive member names, cleaned the way Docker's archive package does.
 *
 * @module
 */

/** Matches a name that has an empty, `.` or `..` component. */
const UNCLEAN = /(?:^|\/)\.{0,2}(?:\/|$)/;

/**
 * Cleans a tar member name as if it were rooted at `/`: empty and `.`
 * components go, and `..` never climbs above the root, so `/../../etc/x` and
 * `../etc/x` both become `etc/x`.
 * @param name the name as stored in the archive
 * @returns a relative path without empty, `.` or `..` components; `""` for the root
 */
export function cleanName(name: string): string {
  if (!UNCLEAN.test(name)) return name;
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}
