import assert from "node:assert/strict";
import { parseMountOptions } from "../../ffi/mount.ts";
import { parseSignal } from "./kill.ts";

Deno.test("parseSignal() takes numbers and names with or without SIG", () => {
  assert.equal(parseSignal("9"), 9);
  assert.equal(parseSignal(15), 15);
  assert.equal(parseSignal("KILL"), 9);
  assert.equal(parseSignal("sigterm"), 15);
  assert.equal(parseSignal("SIGWINCH"), 28);
  assert.throws(() => parseSignal("SIGNOPE"), /Invalid signal: "SIGNOPE"/);
  assert.throws(() => parseSignal("0"), /Invalid signal/);
});

Deno.test("parseMountOptions() splits flags, propagation and data", () => {
  const o = parseMountOptions([
    "nosuid",
    "noexec",
    "newinstance",
    "ptmxmode=0666",
    "ro",
    "rprivate",
  ]);
  assert.equal(o.flags, 0x2 | 0x8 | 0x1);
  assert.equal(o.propagation, 0x40000 | 0x4000);
  assert.equal(o.data, "newinstance,ptmxmode=0666");
  assert.equal(parseMountOptions(["ro", "rw"]).flags, 0);
  assert.equal(parseMountOptions(["rbind"]).flags, 0x1000 | 0x4000);
});
