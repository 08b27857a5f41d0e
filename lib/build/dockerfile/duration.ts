/**
 * Go's `time.ParseDuration`, which HEALTHCHECK's `--interval` and friends use.
 *
 * @module
 */

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  "μs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Parses `1h30m`, `1.5s`, `300ms`, `-2s`, `0` into nanoseconds.
 * @throws {Error} `time: invalid duration "x"` or `time: missing unit in duration "x"`
 */
export function parseDuration(text: string): number {
  const invalid = () => new Error(`time: invalid duration "${text}"`);
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw invalid();
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?([^\d.]*)/;
  while (s !== "") {
    const match = re.exec(s)!;
    const [all, whole, frac, unit] = match;
    if ((whole === "" && (frac ?? "") === "") || all === "") throw invalid();
    if (unit === "") throw new Error(`time: missing unit in duration "${text}"`);
    const scale = UNITS[unit!];
    if (scale === undefined) throw new Error(`time: unknown unit "${unit}" in duration "${text}"`);
    total += Number(`${whole || "0"}.${frac || "0"}`) * scale;
    s = s.slice(all.length);
  }
  return sign * Math.round(total);
}
