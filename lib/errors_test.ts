import assert from "node:assert/strict";
import { describeError, EngineError, exitCodeOf, NotFoundError } from "./errors.ts";

Deno.test("describeError() joins the cause chain on one line without repeating quoted causes", () => {
  const inner = new Error("No space left on device (os error 28)");
  const mid = new EngineError(`Cannot extract "bin/sh": No space left on device (os error 28)`, {
    cause: inner,
  });
  const top = new EngineError(`Cannot import "x.tar"`, { cause: mid });
  assert.equal(
    describeError(top),
    `Cannot import "x.tar": Cannot extract "bin/sh": No space left on device (os error 28)`,
  );
  assert.equal(describeError("plain"), "plain");
});

Deno.test("exitCodeOf() is the error's own code for engine errors and 125 otherwise", () => {
  assert.equal(exitCodeOf(new NotFoundError("x")), 125);
  assert.equal(exitCodeOf(new EngineError("x", { exitCode: 127 })), 127);
  assert.equal(exitCodeOf(new TypeError("x")), 125);
});
