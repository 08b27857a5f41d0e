/**
 * Sizes, durations and ages printed and parsed the way Docker's CLI does it
 * with github.com/docker/go-units and Go's fmt and time packages.
 *
 * @module
 */

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
const BINARY_MULTIPLIERS: Record<string, number> = {
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
};
/** Go's time.ParseDuration units, in milliseconds. */
const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Significant digits and decimal exponent of `|x|`: 1234.5 → ["12345", 3]. */
function decimalDigits(text: string): [string, number] {
  const [mantissa = "", e = "0"] = text.split("e");
  const [int = "", frac = ""] = mantissa.split(".");
  const all = int + frac;
  const leading = all.length - all.replace(/^0+/, "").length;
  const digits = all.slice(leading).replace(/0+$/, "");
  return [digits === "" ? "0" : digits, int.length + Number(e) - leading - 1];
}

/** Rounds a digit string to `precision` digits, half to even as Go's strconv does. */
function roundDigits(digits: string, exp: number, precision: number): [string, number] {
  if (digits.length <= precision) return [digits, exp];
  const rest = digits.slice(precision);
  const last = Number(digits[precision - 1]);
  const up = rest[0]! > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || last % 2 === 1));
  let kept = digits.slice(0, precision);
  if (up) {
    const next = (BigInt(kept) + 1n).toString();
    if (next.length > kept.length) exp++;
    kept = next.slice(0, precision);
  }
  return [kept.replace(/0+$/, "") || "0", exp];
}

/**
 * Formats a number as Go's `%g` (`%.<precision>g`), or as `%v` prints a
 * float64 when `precision` is omitted (shortest digits, exponent from 1e6).
 * @param x the number
 * @param precision significant digits
 * @returns e.g. `4.26`, `1e+03`, `1.2345675e+06`
 */
export function formatG(x: number, precision?: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const sign = x < 0 ? "-" : "";
  const abs = Math.abs(x);
  // toPrecision(100) is exact for the doubles a CLI prints, so ties are real ties.
  let [digits, exp] = decimalDigits(
    precision === undefined ? abs.toExponential() : abs.toPrecision(100),
  );
  const eprec = precision === undefined ? 6 : Math.max(precision, 1);
  if (precision !== undefined) [digits, exp] = roundDigits(digits, exp, eprec);
  if (exp < -4 || exp >= eprec) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = `${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
    return `${sign}${mantissa}e${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return sign + int + (frac === "" ? "" : `.${frac}`);
}

function scaled(bytes: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (bytes >= base && i < units.length - 1) {
    bytes /= base;
    i++;
  }
  return [bytes, units[i] as string];
}

/**
 * A size with decimal units, as go-units `HumanSizeWithPrecision`; Docker
 * uses precision 3 in `images` and `ps -s`, and 4 (`HumanSize`) in `system df`.
 * @param bytes the size
 * @param precision significant digits @default 3
 * @returns e.g. `0B`, `999B`, `1kB`, `4.26MB`, `1.5GB`
 */
export function humanSize(bytes: number, precision = 3): string {
  const [size, unit] = scaled(bytes, 1000, DECIMAL_UNITS);
  return formatG(size, precision) + unit;
}

/** A size with binary units, as go-units `BytesSize`: `1KiB`, `3.42GiB`. */
export function bytesSize(bytes: number): string {
  const [size, unit] = scaled(bytes, 1024, BINARY_UNITS);
  return formatG(size, 4) + unit;
}

/**
 * An approximate duration, as go-units `HumanDuration`.
 * @param ms the duration in milliseconds
 * @returns e.g. `Less than a second`, `About a minute`, `3 hours`, `2 weeks`
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  const minutes = Math.trunc(ms / 60_000);
  // Go rounds half away from zero here: Duration.Round(time.Hour).
  const hours = Math.sign(ms) * Math.floor(Math.abs(ms) / 3_600_000 + 0.5);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/**
 * How long ago a time was, as Docker prints `CREATED`: `3 hours ago`.
 * @param time an RFC 3339 date string, a Date or epoch milliseconds
 * @param now the present @default Date.now()
 */
export function sinceTime(time: string | Date | number, now: number | Date = Date.now()): string {
  const then = typeof time === "string" ? Date.parse(time) : Number(time);
  return `${humanDuration(Number(now) - then)} ago`;
}

/**
 * Parses a memory size with binary multipliers, as go-units `RAMInBytes`
 * (`--memory 20m`, `--shm-size 1g`): case-insensitive `k m g t p`, then
 * an optional `b` or `ib`, with at most one space before the unit.
 * @param value e.g. `100`, `512k`, `20m`, `1.5GiB`, `32 MB`
 * @returns the number of bytes, truncated to an integer
 * @throws {RangeError} `Invalid size: "<value>"`
 */
export function parseBytes(value: string): number {
  const match = /^(\d+(?:\.\d*)?|\.\d+) ?(?:([kmgtp])(i?b)?|(b))?$/i.exec(value);
  if (match === null) throw new RangeError(`Invalid size: "${value}"`);
  const unit = match[2]?.toLowerCase();
  const multiplier = unit === undefined ? 1 : BINARY_MULTIPLIERS[unit] as number;
  return Math.trunc(Number(match[1]) * multiplier);
}

/**
 * Parses a Go duration (`10s`, `1m30s`, `1h`, `500ms`, `1.5h`, `-2m`).
 * @returns milliseconds (fractional below one millisecond)
 * @throws {RangeError} `Invalid duration: "<value>"`, with Go's reason
 */
export function parseDuration(value: string): number {
  const fail = (reason: string) => new RangeError(`Invalid duration: "${value}": ${reason}`);
  const sign = value.startsWith("-") ? -1 : 1;
  const body = value.replace(/^[-+]/, "");
  if (body === "0") return 0;
  if (body === "") throw fail("empty");
  let total = 0;
  const part = /(\d+\.?\d*|\.\d+)([^\d.]*)/y;
  for (let match = part.exec(body); match !== null; match = part.exec(body)) {
    const [, number = "", unit = ""] = match;
    if (unit === "") throw fail("missing unit");
    const ms = DURATION_UNITS[unit];
    if (ms === undefined) throw fail(`unknown unit "${unit}"`);
    total += Number(number) * ms;
    if (part.lastIndex === body.length) return sign * total;
  }
  throw fail("not a duration");
}
