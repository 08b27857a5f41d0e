import assert from "node:assert/strict";
import { cleanName } from "./clean_name.ts";

Deno.test("cleanName() roots names when they are absolute or climb", () => {
  const cases: [string, string][] = [
    ["usr/bin/env", "usr/bin/env"],
    ["./usr//bin/./env/", "usr/bin/env"],
    ["/../../etc/x", "etc/x"],
    ["../x", "x"],
    ["a/../../b", "b"],
    ["..", ""],
    ["./", ""],
    ["a/..b/c..", "a/..b/c.."],
    [".wh..wh..opq", ".wh..wh..opq"],
  ];
  for (const [name, want] of cases) assert.equal(cleanName(name), want, name);
});
