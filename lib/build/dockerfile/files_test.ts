import assert from "node:assert/strict";
import type { CopyInstr, Instr, KeyValueInstr } from "./ast.ts";
import { parse } from "./parse.ts";
import { expandInstruction, resolveMetaArgs, StageScope } from "./scope.ts";

const DIR = new URL("../../../tests/build/dockerfiles/", import.meta.url);
const read = (name: string) => parse(Deno.readTextFileSync(new URL(name, DIR)), { file: name });
const keywords = (instrs: Instr[]) => instrs.map((i) => i.keyword);

Deno.test("parse() reads a multi-stage Go Dockerfile with cache mounts and a healthcheck", () => {
  const df = read("go-multistage.Dockerfile");
  assert.deepEqual(df.directives, {
    syntax: "docker/dockerfile:1.7",
    check: "error=true",
    escape: "\\",
  });
  assert.deepEqual(df.metaArgs.map((a) => a.args[0]!.name), ["GO_VERSION", "ALPINE"]);
  assert.deepEqual(df.stages.map((s) => [s.name, s.from.image, s.line]), [
    ["build", "golang:${GO_VERSION}-alpine", 7],
    ["test", "build", 19],
    ["final", "${ALPINE}", 22],
  ]);
  const meta = resolveMetaArgs(df.metaArgs, { buildArgs: new Map([["GO_VERSION", "1.23"]]) });
  assert.equal(expandInstruction(df.stages[0]!.from, meta).image, "golang:1.23-alpine");
  assert.equal(expandInstruction(df.stages[2]!.from, meta).image, "alpine:3.19");
  const build = df.stages[0]!.instructions;
  assert.deepEqual(keywords(build), ["WORKDIR", "ENV", "COPY", "RUN", "COPY", "ARG", "RUN"]);
  assert.deepEqual([build[3]!.line, build[3]!.endLine], [12, 13]);
  const final = df.stages[2]!.instructions;
  assert.deepEqual(keywords(final), [
    "LABEL",
    "RUN",
    "COPY",
    "USER",
    "EXPOSE",
    "HEALTHCHECK",
    "STOPSIGNAL",
    "ENTRYPOINT",
    "CMD",
  ]);
  const copy = final[2] as CopyInstr;
  assert.deepEqual([copy.from, copy.chown, copy.chmod, copy.sources, copy.dest], [
    "build",
    "app:app",
    "0755",
    ["/out/app"],
    "/usr/local/bin/app",
  ]);
  assert.deepEqual((final[5] as { test: string[] }).test, [
    "CMD",
    "/usr/local/bin/app",
    "healthcheck",
  ]);
  const scope = new StageScope();
  const env = expandInstruction(build[1] as KeyValueInstr, scope.vars);
  scope.setEnv(env);
  assert.equal(scope.env.get("GOFLAGS"), "-trimpath -mod=readonly");
});

Deno.test("parse() reads a busybox Dockerfile using heredocs, ONBUILD, SHELL and legacy forms", () => {
  const df = read("busybox-everything.Dockerfile");
  assert.equal(df.stages.length, 2);
  const [files, final] = df.stages;
  const run = files!.instructions[0] as Extract<Instr, { keyword: "RUN" }>;
  assert.equal(
    run.heredocs[0]!.content,
    'set -e\nmkdir -p /out\necho "built at $(date)" > /out/stamp\n',
  );
  const config = files!.instructions[1] as CopyInstr;
  assert.deepEqual(config.inline, [
    { name: "EOT", content: "[main]\nname=${NAME:-default}\n", expand: true },
  ]);
  const expanded = expandInstruction(config, new Map([["NAME", "demo"]]));
  assert.equal(expanded.inline[0]!.content, "[main]\nname=demo\n");
  assert.deepEqual(keywords(final!.instructions), [
    "MAINTAINER",
    "ARG",
    "ARG",
    "ENV",
    "ENV",
    "WORKDIR",
    "COPY",
    "COPY",
    "VOLUME",
    "VOLUME",
    "SHELL",
    "RUN",
    "ONBUILD",
    "ONBUILD",
    "HEALTHCHECK",
    "USER",
    "CMD",
  ]);
  const legacy = final!.instructions[4] as KeyValueInstr;
  assert.deepEqual(legacy.pairs, [{ key: "LEGACY_FORM", value: "value with spaces" }]);
  assert.equal(
    final!.instructions[11]!.original,
    'RUN echo "uid ${USER_ID}"  && rm -f ./stamp',
  );
  assert.equal((final!.instructions[12] as { expression: string }).expression, "COPY . /app/src");
});

Deno.test("parse() reads a CRLF Dockerfile with the backtick escape", () => {
  const df = read("windows-escape.Dockerfile");
  assert.equal(df.directives.escape, "`");
  const [base, final] = df.stages;
  assert.deepEqual(keywords(base!.instructions), ["SHELL", "RUN", "WORKDIR", "COPY"]);
  assert.equal(
    base!.instructions[1]!.original,
    "RUN New-Item -ItemType Directory C:\\app ;     Write-Host done",
  );
  assert.deepEqual((base!.instructions[3] as CopyInstr).dest, "C:\\app\\");
  assert.deepEqual((final!.instructions[0] as { command: unknown }).command, {
    form: "exec",
    args: ["powershell", "C:\\app\\app.ps1"],
  });
});
