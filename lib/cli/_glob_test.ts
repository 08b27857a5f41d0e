import assert from "node:assert/strict";
import { globMatch } from "./_glob.ts";

Deno.test("globMatch() follows Go's path.Match: * stops at /", () => {
  assert.ok(globMatch("busy*", "busybox"));
  assert.ok(globMatch("busybox:*", "busybox:1.36"));
  assert.ok(!globMatch("*", "library/busybox"));
  assert.ok(globMatch("*/*", "library/busybox"));
  assert.ok(globMatch("b?sybox", "busybox"));
  assert.ok(globMatch("[a-c]usybox", "busybox"));
  assert.ok(!globMatch("[^b]usybox", "busybox"));
  assert.ok(globMatch("a.b", "a.b"));
  assert.ok(!globMatch("a.b", "axb"));
});
