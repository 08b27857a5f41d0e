/**
 * What the `--filter`, `--label` and `-o` flags of the object commands
 * (`volume`, `network`) share: Docker's `k=v` maps, `key=value` filters
 * checked against the keys a command takes, and the label match.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** `k=v` strings as Docker's map options read them (`k` alone is `k=""`). */
export function keyValues(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq < 0) out[v] = "";
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** One `--filter key=value`. */
export interface Filter {
  key: string;
  value: string;
}

/**
 * `--filter` values, checked against the keys a command takes, and by
 * `check` for what a key's value must be, so a bad filter is refused before
 * any work.
 * @throws {UsageError} Docker's messages
 */
export function parseFilters(
  values: readonly string[],
  allowed: readonly string[],
  check: (filter: Filter) => void = () => {},
): Filter[] {
  return values.map((f) => {
    const eq = f.indexOf("=");
    if (eq < 0) throw new UsageError(`Bad format of filter (expected name=value): ${f}`);
    const filter = { key: f.slice(0, eq), value: f.slice(eq + 1) };
    if (!allowed.includes(filter.key)) throw new UsageError(`Invalid filter '${filter.key}'`);
    check(filter);
    return filter;
  });
}

/** Docker's `label=KEY` or `label=KEY=VALUE` match. */
export function hasLabel(labels: Readonly<Record<string, string>>, wanted: string): boolean {
  const eq = wanted.indexOf("=");
  const key = eq < 0 ? wanted : wanted.slice(0, eq);
  return key in labels && (eq < 0 || labels[key] === wanted.slice(eq + 1));
}
