import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { type FlagSpec, parseArgs } from "./_args.ts";

const SPECS: FlagSpec[] = [
  { name: "interactive", short: "i", type: "bool", description: "" },
  { name: "tty", short: "t", type: "bool", description: "" },
  { name: "name", type: "string", description: "" },
  { name: "env", short: "e", type: "list", description: "" },
  { name: "time", short: "t2", type: "int", description: "" },
  { name: "human", short: "H", type: "bool", default: true, description: "" },
];

Deno.test("parseArgs() reads combined short flags, =values, repeats and --", () => {
  const { flags, args } = parseArgs(SPECS, [
    "-it",
    "--name=web",
    "-e",
    "A=1",
    "-eB=2",
    "img",
    "--",
    "-x",
  ]);
  assert.equal(flags.interactive, true);
  assert.equal(flags.tty, true);
  assert.equal(flags.name, "web");
  assert.deepEqual(flags.env, ["A=1", "B=2"]);
  assert.equal(flags.human, true);
  assert.deepEqual(args, ["img", "-x"]);
});

Deno.test("parseArgs() stops at the first positional when asked, leaving the command's flags alone", () => {
  const { flags, args } = parseArgs(SPECS, ["-i", "busybox", "ls", "-l", "--name", "x"], {
    stopAtPositional: true,
  });
  assert.equal(flags.interactive, true);
  assert.equal(flags.name, undefined);
  assert.deepEqual(args, ["busybox", "ls", "-l", "--name", "x"]);
});

Deno.test("parseArgs() rejects unknown flags, missing values and bad numbers with Docker's words", () => {
  assert.throws(
    () => parseArgs(SPECS, ["--nope"]),
    (e) => e instanceof UsageError && e.message === "unknown flag: --nope",
  );
  assert.throws(
    () => parseArgs(SPECS, ["-z"]),
    (e) => e instanceof UsageError && /unknown shorthand flag: 'z' in -z/.test(e.message),
  );
  assert.throws(
    () => parseArgs(SPECS, ["--name"]),
    (e) => e instanceof UsageError && /flag needs an argument: --name/.test(e.message),
  );
  assert.throws(
    () => parseArgs(SPECS, ["--time", "ten"]),
    (e) => e instanceof UsageError && /invalid argument "ten"/.test(e.message),
  );
  assert.equal(parseArgs(SPECS, ["--human=false"]).flags.human, false);
});

Deno.test("parseArgs() takes a boolean's value as docker's parser does: -a=false, -it=false, --flag=0", () => {
  assert.equal(parseArgs(SPECS, ["-i=false"]).flags.interactive, false);
  const combined = parseArgs(SPECS, ["-it=false", "img"]).flags;
  assert.equal(combined.interactive, true);
  assert.equal(combined.tty, false);
  assert.equal(parseArgs(SPECS, ["--tty=1"]).flags.tty, true);
  assert.equal(parseArgs(SPECS, ["--human=F"]).flags.human, false);
  assert.equal(parseArgs(SPECS, ["--name="]).flags.name, "");
  assert.throws(
    () => parseArgs(SPECS, ["-i=no"]),
    (e) =>
      e instanceof UsageError &&
      e.message ===
        'invalid argument "no" for "-i, --interactive" flag: strconv.ParseBool: parsing "no": invalid syntax',
  );
});
