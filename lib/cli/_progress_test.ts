import assert from "node:assert/strict";
import { renderBar } from "./_progress.ts";

Deno.test("renderBar() draws Docker's bar with sizes, and a plain count without a total", () => {
  const half = renderBar("Loading layer", 5_000_000, 10_000_000);
  assert.match(half, /^Loading layer \[={25}> {24}\] {2}5MB\/10MB$/);
  assert.match(renderBar("Loading layer", 10_000_000, 10_000_000), /\[={50}\] {2}10MB\/10MB$/);
  assert.equal(renderBar("Importing", 2_500_000), "Importing  2.5MB");
});
