import assert from "node:assert/strict";
import {
  bytesSize,
  formatG,
  humanDuration,
  humanSize,
  parseBytes,
  parseDuration,
  sinceTime,
} from "./_units.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

Deno.test("humanSize() prints decimal units with 3 significant digits as docker images does", () => {
  assert.equal(humanSize(0), "0B");
  assert.equal(humanSize(999), "999B");
  assert.equal(humanSize(1000), "1kB");
  assert.equal(humanSize(4_260_000), "4.26MB");
  assert.equal(humanSize(4_264_999), "4.26MB");
  assert.equal(humanSize(1_500_000_000), "1.5GB");
  assert.equal(humanSize(1_240_000), "1.24MB");
});

Deno.test("humanSize() keeps Go's %g quirks: exponent at 1000 units and ties to even", () => {
  assert.equal(humanSize(999_999), "1e+03kB");
  assert.equal(humanSize(1125), "1.12kB");
  assert.equal(humanSize(1135), "1.14kB");
  assert.equal(humanSize(1024, 4), "1.024kB");
  assert.equal(humanSize(1_048_576, 4), "1.049MB");
  assert.equal(humanSize(1e13 * 1e15, 4), "1e+04YB");
});

Deno.test("bytesSize() prints binary units as go-units BytesSize", () => {
  assert.equal(bytesSize(1024), "1KiB");
  assert.equal(bytesSize(1024 * 1024), "1MiB");
  assert.equal(bytesSize(3.42 * 2 ** 30), "3.42GiB");
  assert.equal(bytesSize(5.372 * 2 ** 40), "5.372TiB");
  assert.equal(bytesSize(100), "100B");
});

Deno.test("formatG() formats as Go's %g and %v", () => {
  assert.equal(formatG(1.5), "1.5");
  assert.equal(formatG(123456.5), "123456.5");
  assert.equal(formatG(1234567.5), "1.2345675e+06");
  assert.equal(formatG(0.00001), "1e-05");
  assert.equal(formatG(0.0001), "0.0001");
  assert.equal(formatG(-2.5, 1), "-2");
  assert.equal(formatG(100, 3), "100");
  assert.equal(formatG(Infinity), "+Inf");
});

Deno.test("humanDuration() matches go-units HumanDuration", () => {
  const cases: Array<[number, string]> = [
    [450, "Less than a second"],
    [SECOND, "1 second"],
    [45 * SECOND, "45 seconds"],
    [59 * SECOND, "59 seconds"],
    [60 * SECOND, "About a minute"],
    [3 * MINUTE, "3 minutes"],
    [35 * MINUTE + 40 * SECOND, "35 minutes"],
    [59 * MINUTE, "59 minutes"],
    [HOUR, "About an hour"],
    [HOUR + 29 * MINUTE, "About an hour"],
    [HOUR + 31 * MINUTE, "2 hours"],
    [3 * HOUR + 29 * MINUTE, "3 hours"],
    [3 * HOUR + 31 * MINUTE, "4 hours"],
    [DAY + 12 * HOUR, "36 hours"],
    [2 * DAY, "2 days"],
    [13 * DAY + 5 * HOUR, "13 days"],
    [2 * WEEK, "2 weeks"],
    [3 * WEEK, "3 weeks"],
    [MONTH, "4 weeks"],
    [MONTH + 2 * WEEK, "6 weeks"],
    [2 * MONTH, "2 months"],
    [5 * MONTH + 2 * WEEK, "5 months"],
    [24 * MONTH, "24 months"],
    [24 * MONTH + 2 * WEEK, "2 years"],
    [3 * YEAR + 2 * MONTH, "3 years"],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms}ms`);
});

Deno.test("sinceTime() appends ago as docker images prints CREATED", () => {
  const now = Date.parse("2024-01-01T12:00:00Z");
  assert.equal(sinceTime("2024-01-01T09:00:00Z", now), "3 hours ago");
  assert.equal(sinceTime(new Date(now - 2 * YEAR - 3 * MONTH), now), "2 years ago");
  assert.equal(sinceTime(now, new Date(now)), "Less than a second ago");
});

Deno.test("parseBytes() parses sizes as go-units RAMInBytes", () => {
  const cases: Array<[string, number]> = [
    ["100", 100],
    ["32b", 32],
    ["32B", 32],
    ["512k", 512 * 1024],
    ["32K", 32 * 1024],
    ["32kb", 32 * 1024],
    ["32Kib", 32 * 1024],
    ["32KIB", 32 * 1024],
    ["20m", 20 * 2 ** 20],
    ["1g", 2 ** 30],
    ["32Tb", 32 * 2 ** 40],
    ["32P", 32 * 2 ** 50],
    ["32.3", 32],
    ["32.3 mb", Math.trunc(32.3 * 2 ** 20)],
    ["0.3MB", Math.trunc(0.3 * 2 ** 20)],
  ];
  for (const [text, bytes] of cases) assert.equal(parseBytes(text), bytes, text);
});

Deno.test("parseBytes() throws RangeError on garbage", () => {
  for (const text of ["", "hello", "-32", " 32 ", "32m b", "32bm", "32ib", "32ki", "m"]) {
    assert.throws(() => parseBytes(text), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.equal(e.message, `Invalid size: "${text}"`);
      return true;
    });
  }
});

Deno.test("parseDuration() parses Go durations into milliseconds", () => {
  assert.equal(parseDuration("10s"), 10 * SECOND);
  assert.equal(parseDuration("1m30s"), 90 * SECOND);
  assert.equal(parseDuration("1h"), HOUR);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1.5h"), 1.5 * HOUR);
  assert.equal(parseDuration("-2m"), -2 * MINUTE);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("1500us"), 1.5);
  assert.equal(parseDuration("2h45m0.5s"), 2 * HOUR + 45 * MINUTE + 500);
});

Deno.test("parseDuration() throws RangeError with Go's reason", () => {
  assert.throws(() => parseDuration("1"), /Invalid duration: "1": missing unit/);
  assert.throws(() => parseDuration("1d"), /unknown unit "d"/);
  assert.throws(() => parseDuration(""), RangeError);
  assert.throws(() => parseDuration("1h-2m"), RangeError);
  assert.throws(() => parseDuration("."), RangeError);
});
