import assert from "node:assert/strict";
import { RegistryError } from "../_errors.ts";
import { paginate, parseContentRange, parseRange, uploadRange } from "./_http.ts";

Deno.test("parseRange() reads single byte ranges and refuses unsatisfiable ones", () => {
  assert.equal(parseRange(null, 10), undefined);
  assert.deepEqual(parseRange("bytes=0-0", 10), { start: 0, end: 0 });
  assert.deepEqual(parseRange("bytes=5-", 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange("bytes=-3", 10), { start: 7, end: 9 });
  assert.deepEqual(parseRange("bytes=2-100", 10), { start: 2, end: 9 });
  assert.equal(parseRange("bytes=1-2,4-5", 10), undefined, "multiple ranges: the whole blob");
  assert.throws(() => parseRange("bytes=10-", 10), RangeError);
  assert.throws(() => parseRange("bytes=5-2", 10), RangeError);
});

Deno.test("parseContentRange() accepts the spec's form and bytes start-end/total", () => {
  assert.equal(parseContentRange(null), undefined);
  assert.deepEqual(parseContentRange("0-99"), { start: 0, end: 99 });
  assert.deepEqual(parseContentRange("bytes 100-199/*"), { start: 100, end: 199 });
  assert.throws(
    () => parseContentRange("9-1"),
    (e) => e instanceof RegistryError && e.status === 416,
  );
  assert.throws(() => parseContentRange("abc"), RegistryError);
});

Deno.test("uploadRange() is 0-0 when empty, else the last byte's offset", () => {
  assert.equal(uploadRange(0), "0-0");
  assert.equal(uploadRange(10), "0-9");
});

Deno.test("paginate() pages after last and links to the next page", () => {
  const url = new URL("http://x/v2/r/tags/list?n=2");
  assert.deepEqual(paginate(["a", "b", "c"], url), {
    page: ["a", "b"],
    link: '</v2/r/tags/list?n=2&last=b>; rel="next"',
  });
  assert.deepEqual(paginate(["a", "b", "c"], new URL("http://x/l?n=2&last=b")), { page: ["c"] });
  assert.deepEqual(paginate(["a", "b"], new URL("http://x/l?n=0")), { page: [] });
  assert.deepEqual(paginate(["a", "b"], new URL("http://x/l")), { page: ["a", "b"] });
});
