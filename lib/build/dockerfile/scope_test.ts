import assert from "node:assert/strict";
import { InvalidError } from "../../errors.ts";
import type { ArgInstr, CopyInstr, Instr, KeyValueInstr } from "./ast.ts";
import { parse } from "./parse.ts";
import { expandInstruction, resolveMetaArgs, StageScope } from "./scope.ts";

const stage = (body: string, head = "FROM scratch\n") => parse(head + body).stages[0]!;

Deno.test("resolveMetaArgs() takes build args over defaults, defaults seeing earlier ARGs and builtins", () => {
  const df = parse("ARG V=1.0\nARG IMG=busybox:$V\nARG UNSET\nARG P=$TARGETOS\nFROM $IMG\n");
  const meta = resolveMetaArgs(df.metaArgs, { builtins: new Map([["TARGETOS", "linux"]]) });
  assert.deepEqual(Object.fromEntries(meta), {
    TARGETOS: "linux",
    V: "1.0",
    IMG: "busybox:1.0",
    P: "linux",
  });
  const given = resolveMetaArgs(df.metaArgs, { buildArgs: new Map([["V", "2"], ["UNSET", "u"]]) });
  assert.equal(given.get("IMG"), "busybox:2");
  assert.equal(given.get("UNSET"), "u");
  assert.equal(expandInstruction(df.stages[0]!.from, meta).image, "busybox:1.0");
});

Deno.test("StageScope sees a meta ARG only when the stage redeclares it", () => {
  const df = parse("ARG VERSION=1\nFROM x\nRUN a\nARG VERSION\nARG OTHER=$VERSION-b\n");
  const meta = resolveMetaArgs(df.metaArgs);
  const scope = new StageScope({ metaArgs: meta });
  assert.equal(scope.vars.get("VERSION"), undefined);
  const [, redeclare, other] = df.stages[0]!.instructions as ArgInstr[];
  scope.declare(redeclare!);
  assert.equal(scope.vars.get("VERSION"), "1");
  scope.declare(other!);
  assert.equal(scope.args.get("OTHER"), "1-b");
});

Deno.test("StageScope takes build args over defaults and records which were used", () => {
  const scope = new StageScope({
    buildArgs: new Map([["A", "given"], ["HTTP_PROXY", "http://p"], ["UNUSED", "x"]]),
  });
  // a predefined ARG is in scope without an ARG line
  assert.equal(scope.args.get("HTTP_PROXY"), "http://p");
  for (const instr of stage("ARG A=default B=$A NONE\n").instructions) {
    scope.declare(instr as ArgInstr);
  }
  assert.deepEqual(Object.fromEntries(scope.args), {
    HTTP_PROXY: "http://p",
    A: "given",
    B: "given",
  });
  assert.deepEqual([...scope.usedBuildArgs], ["A"]);
});

Deno.test("StageScope lets ENV override an ARG of the same name, and starts from the image's Env", () => {
  const scope = new StageScope({
    env: ["PATH=/usr/bin", "X=img"],
    buildArgs: new Map([["X", "arg"]]),
  });
  const [arg, env, env2] = stage("ARG X\nENV X=env Y=$X\nENV Z=${PATH}:/opt\n").instructions;
  scope.declare(arg as ArgInstr);
  assert.equal(scope.vars.get("X"), "img");
  scope.setEnv(expandInstruction(env as KeyValueInstr, scope.vars));
  scope.setEnv(expandInstruction(env2 as KeyValueInstr, scope.vars));
  // ENV values of one line see the scope before that line, as Docker's
  assert.deepEqual(Object.fromEntries(scope.env), {
    PATH: "/usr/bin",
    X: "env",
    Y: "img",
    Z: "/usr/bin:/opt",
  });
});

Deno.test("expandInstruction() expands where Docker does and leaves RUN/CMD/ENTRYPOINT/ONBUILD alone", () => {
  const vars = new Map([["D", "/app"], ["P", "80 443"], ["U", "app"], ["S", "src dir"], [
    "N",
    "x",
  ]]);
  const get = (line: string): Instr => expandInstruction(stage(line).instructions[0]!, vars);
  assert.deepEqual((get("ENV K_$N=\"$D/bin\" L='$D'\n") as KeyValueInstr).pairs, [
    { key: "K_x", value: "/app/bin" },
    { key: "L", value: "$D" },
  ]);
  assert.deepEqual((get("LABEL a=${U:-none} b=${Q:-none}\n") as KeyValueInstr).pairs, [
    { key: "a", value: "app" },
    { key: "b", value: "none" },
  ]);
  assert.deepEqual(get("EXPOSE $P 53/udp\n"), {
    ...stage("EXPOSE $P 53/udp\n").instructions[0]!,
    ports: ["80", "443", "53/udp"],
  });
  assert.equal((get("WORKDIR $D/sub\n") as { value: string }).value, "/app/sub");
  assert.equal((get("USER ${U}:${U}\n") as { value: string }).value, "app:app");
  assert.equal((get("STOPSIGNAL SIG$N\n") as { value: string }).value, "SIGx");
  assert.deepEqual((get("VOLUME $D/data\n") as { paths: string[] }).paths, ["/app/data"]);
  const copy = get('COPY --chown=$U --from=${N} "$S" \\$lit $D/\n') as CopyInstr;
  assert.deepEqual([copy.sources, copy.dest, copy.chown, copy.from], [
    ["src dir", "$lit"],
    "/app/",
    "app",
    "x",
  ]);
  const heredoc = expandInstruction(
    stage("COPY <<A <<'B' $D/\nsay $U\nA\nsay $U\nB\n").instructions[0]!,
    vars,
  ) as CopyInstr;
  assert.deepEqual(heredoc.inline.map((s) => s.content), ["say app\n", "say $U\n"]);
  assert.equal(heredoc.dest, "/app/");
  const run = get("RUN --mount=type=cache,target=$D echo $D\n") as Extract<
    Instr,
    { keyword: "RUN" }
  >;
  assert.deepEqual([run.mounts, run.command], [["type=cache,target=/app"], {
    form: "shell",
    script: "echo $D",
  }]);
  assert.deepEqual((get("CMD echo $D\n") as { command: unknown }).command, {
    form: "shell",
    script: "echo $D",
  });
  assert.equal((get("ONBUILD WORKDIR $D\n") as { expression: string }).expression, "WORKDIR $D");
});

Deno.test("expandInstruction() leaves the parsed instruction unchanged and honours the escape character", () => {
  const df = parse("# escape=`\nFROM x\nWORKDIR C:\\$D`$D\n");
  const instr = df.stages[0]!.instructions[0]!;
  const out = expandInstruction(instr, new Map([["D", "d"]]), df.directives.escape);
  assert.equal((out as { value: string }).value, "C:\\d$D");
  assert.equal((instr as { value: string }).value, "C:\\$D`$D");
});

Deno.test("expandInstruction() fails as Docker on an empty expanded VOLUME and a bad substitution", () => {
  assert.throws(
    () => expandInstruction(stage("VOLUME $NOTHING\n").instructions[0]!, new Map()),
    (e) => e instanceof InvalidError && e.message === "VOLUME specified can not be an empty string",
  );
  assert.throws(
    () => expandInstruction(stage("WORKDIR ${D\n").instructions[0]!, new Map()),
    (e) => e instanceof InvalidError && e.message === "syntax error: missing '}'",
  );
});
