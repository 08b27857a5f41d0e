import assert from "node:assert/strict";
import { DetachScanner, parseDetachKeys } from "./_detach_keys.ts";

Deno.test("detach keys: Docker's default and custom sequences", () => {
  assert.deepEqual([...parseDetachKeys("ctrl-p,ctrl-q")], [16, 17]);
  assert.deepEqual([...parseDetachKeys("CTRL-A,x,ctrl-@,ctrl-_")], [1, 120, 0, 31]);
  assert.throws(() => parseDetachKeys("ctrl-pq"), {
    message: "Invalid detach keys (ctrl-pq) provided",
  });
  assert.throws(() => parseDetachKeys("ctrl-1"), /Invalid detach keys/);
  assert.throws(() => parseDetachKeys("ab,c"), /Invalid detach keys/);
});

Deno.test("detach scanner: passes input, holds a partial match, detaches on the whole one", () => {
  const s = new DetachScanner(parseDetachKeys("ctrl-p,ctrl-q"));
  assert.deepEqual(s.feed(new Uint8Array([104, 105])), {
    pass: new Uint8Array([104, 105]),
    detach: false,
  });
  // Ctrl-P alone is held back until the next byte decides.
  assert.deepEqual(s.feed(new Uint8Array([16])), { pass: new Uint8Array([]), detach: false });
  // Ctrl-P then "a": both go through.
  assert.deepEqual(s.feed(new Uint8Array([97])), { pass: new Uint8Array([16, 97]), detach: false });
  // Ctrl-P Ctrl-P Ctrl-Q: the first Ctrl-P goes through, the rest detaches.
  assert.deepEqual(s.feed(new Uint8Array([120, 16, 16, 17, 121])), {
    pass: new Uint8Array([120, 16]),
    detach: true,
  });
  // Split across reads.
  const t = new DetachScanner(parseDetachKeys("ctrl-p,ctrl-q"));
  assert.equal(t.feed(new Uint8Array([16])).detach, false);
  assert.equal(t.feed(new Uint8Array([17])).detach, true);
});
