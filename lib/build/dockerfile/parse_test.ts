import assert from "node:assert/strict";
import { InvalidError } from "../../errors.ts";
import type { CopyInstr, Instr } from "./ast.ts";
import { DockerfileError } from "./error.ts";
import { parse } from "./parse.ts";

/** The instructions of the only stage of `FROM scratch` + `body`. */
function instrs(body: string): Instr[] {
  return parse(`FROM scratch\n${body}`).stages[0]!.instructions;
}
/** The instruction type whose keyword can be K. */
type Of<K> = Instr extends infer I
  ? I extends { keyword: infer W } ? K extends W ? I : never : never
  : never;
function one<K extends Instr["keyword"]>(line: string, keyword: K): Of<K> {
  const [instr] = instrs(line);
  assert.equal(instr?.keyword, keyword);
  return instr as Of<K>;
}

Deno.test("parse() reads directives at the top only, case-insensitively and with blanks", () => {
  const df = parse("# syntax=docker/dockerfile:1.7\n#  ESCAPE = `\n#check=skip=all\nFROM x\n");
  assert.deepEqual(df.directives, {
    syntax: "docker/dockerfile:1.7",
    escape: "`",
    check: "skip=all",
  });
  // after a comment, a blank line or an instruction, `# escape=` is a comment
  assert.equal(parse("# hello\n# escape=`\nFROM x\n").directives.escape, "\\");
  assert.equal(parse("\n# escape=`\nFROM x\n").directives.escape, "\\");
  assert.equal(parse("FROM x\n# escape=`\n").directives.escape, "\\");
  // an unknown directive ends them too
  assert.equal(parse("# foo=bar\n# escape=`\nFROM x\n").directives.escape, "\\");
});

Deno.test("parse() splits stages, lower-cases AS names, keeps meta ARGs and line numbers", () => {
  const df = parse(
    "ARG BASE=busybox\nARG TAG\n\nfrom --platform=$P ${BASE}:$TAG As Builder\nrun make\nFROM scratch\nCOPY --from=builder /a /b\n",
  );
  assert.deepEqual(df.metaArgs.map((a) => a.args), [[{ name: "BASE", value: "busybox" }], [{
    name: "TAG",
  }]]);
  assert.equal(df.stages.length, 2);
  const [build, final] = df.stages;
  assert.equal(build!.name, "builder");
  assert.equal(build!.index, 0);
  assert.equal(build!.line, 4);
  assert.deepEqual([build!.from.image, build!.from.platform], ["${BASE}:$TAG", "$P"]);
  assert.equal(build!.instructions[0]!.keyword, "RUN");
  assert.equal(build!.instructions[0]!.original, "run make");
  assert.equal(final!.name, undefined);
  assert.equal(final!.index, 1);
  assert.equal((final!.instructions[0] as CopyInstr).from, "builder");
  assert.equal(final!.instructions[0]!.line, 7);
});

Deno.test("parse() joins continuations, skipping comment and blank lines inside them", () => {
  const [run] = instrs(
    "RUN apt-get update && \\\n  # a comment\n\n    apt-get install -y x \\  \n    && done\n",
  );
  assert.equal(run!.original, "RUN apt-get update &&     apt-get install -y x     && done");
  assert.deepEqual([run!.line, run!.endLine], [2, 6]);
  assert.deepEqual((run as Extract<Instr, { keyword: "RUN" }>).command, {
    form: "shell",
    script: "apt-get update &&     apt-get install -y x     && done",
  });
  // with `# escape=`, a backslash is an ordinary character
  const df = parse("# escape=`\nFROM x\nRUN dir C:\\ `\n  /w\nWORKDIR C:\\dir\n");
  assert.equal(df.stages[0]!.instructions[0]!.original, "RUN dir C:\\   /w");
  assert.equal(df.stages[0]!.instructions[1]!.original, "WORKDIR C:\\dir");
});

Deno.test("parse() accepts CRLF line ends, a BOM, indentation and comments", () => {
  const df = parse(
    "\uFEFFFROM x\r\n  # indented comment\r\n\tRUN a \\\r\n b\r\nCMD c # not a comment\r\n",
  );
  const [run, cmd] = df.stages[0]!.instructions;
  assert.equal(run!.original, "RUN a  b");
  assert.equal(run!.column, 2);
  assert.equal(cmd!.original, "CMD c # not a comment");
});

Deno.test("parse() reads RUN/CMD/ENTRYPOINT in exec and shell form", () => {
  assert.deepEqual(one('RUN ["sh", "-c", "echo hi"]', "RUN").command, {
    form: "exec",
    args: ["sh", "-c", "echo hi"],
  });
  assert.deepEqual(one("CMD echo $HOME", "CMD").command, { form: "shell", script: "echo $HOME" });
  assert.deepEqual(one('ENTRYPOINT ["/bin/app","--x"]', "ENTRYPOINT").command, {
    form: "exec",
    args: ["/bin/app", "--x"],
  });
  assert.deepEqual(one("CMD []", "CMD").command, { form: "exec", args: [] });
  // not valid JSON: the shell form, as Docker does
  assert.deepEqual(one("CMD [ 'single' ]", "CMD").command, {
    form: "shell",
    script: "[ 'single' ]",
  });
  assert.deepEqual(one("RUN [ -f /x ] && echo", "RUN").command, {
    form: "shell",
    script: "[ -f /x ] && echo",
  });
});

Deno.test("parse() reads RUN's flags, repeated --mount included", () => {
  const run = one(
    "RUN --mount=type=cache,target=/root/.cache --mount=type=bind,source=a,target=/a --network=none --security=sandbox make",
    "RUN",
  );
  assert.deepEqual(run.mounts, ["type=cache,target=/root/.cache", "type=bind,source=a,target=/a"]);
  assert.equal(run.network, "none");
  assert.equal(run.security, "sandbox");
  assert.deepEqual(run.command, { form: "shell", script: "make" });
  assert.deepEqual(run.flags.mount?.length, 2);
});

Deno.test("parse() reads heredocs: several per line, <<- tab stripping, quoted markers", () => {
  const [a, b, c] = instrs(
    [
      "RUN <<EOF",
      "echo $HOME",
      "  indented",
      "EOF",
      "RUN <<-'EOT' cat >/x && 3<<\"B\"x cat",
      "\tline one",
      "\t\tline two",
      "\tEOT",
      "bee",
      "Bx",
      "RUN python3 <<EOF # after",
      "print(1)",
      "EOF",
      "",
    ].join("\n"),
  ) as Extract<Instr, { keyword: "RUN" }>[];
  assert.deepEqual(a!.heredocs, [
    { name: "EOF", content: "echo $HOME\n  indented\n", expand: true, chomp: false, fd: 0 },
  ]);
  assert.deepEqual(a!.command, { form: "shell", script: "<<EOF" });
  assert.deepEqual([a!.line, a!.endLine], [2, 5]);
  assert.deepEqual(b!.heredocs, [
    { name: "EOT", content: "line one\nline two\n", expand: false, chomp: true, fd: 0 },
    { name: "Bx", content: "bee\n", expand: false, chomp: false, fd: 3 },
  ]);
  assert.equal(c!.heredocs[0]!.content, "print(1)\n");
  assert.equal(c!.line, 12);
});

Deno.test("parse() reads COPY <<EOF /path as an inline file and COPY/ADD flags", () => {
  const [copy, add, json] = instrs(
    [
      "COPY --chmod=0755 <<EOF <<'SRC' /usr/local/bin/",
      "#!/bin/sh",
      "EOF",
      "x $NOT",
      "SRC",
      "ADD --chown=app:app --checksum=sha256:abc --link --keep-git-dir=false https://x/a.tgz src/ /opt/",
      'COPY --from=build --link=false ["file with space", "other", "/dst dir/"]',
    ].join("\n"),
  ) as CopyInstr[];
  assert.deepEqual(copy!.inline, [
    { name: "EOF", content: "#!/bin/sh\n", expand: true },
    { name: "SRC", content: "x $NOT\n", expand: false },
  ]);
  assert.deepEqual([copy!.sources, copy!.dest, copy!.chmod], [[], "/usr/local/bin/", "0755"]);
  assert.deepEqual(add!.sources, ["https://x/a.tgz", "src/"]);
  assert.equal(add!.keyword, "ADD");
  assert.deepEqual([add!.chown, add!.checksum, add!.link, add!.keepGitDir], [
    "app:app",
    "sha256:abc",
    true,
    false,
  ]);
  assert.deepEqual([json!.sources, json!.dest, json!.json, json!.from, json!.link], [
    ["file with space", "other"],
    "/dst dir/",
    true,
    "build",
    false,
  ]);
  assert.equal(
    json!.original,
    'COPY --from=build --link=false ["file with space", "other", "/dst dir/"]',
  );
});

Deno.test("parse() reads ENV and LABEL pairs, quotes kept for expansion, and the legacy form", () => {
  assert.deepEqual(one('ENV A=1 B="two words" C=\\$x D=', "ENV").pairs, [
    { key: "A", value: "1" },
    { key: "B", value: '"two words"' },
    { key: "C", value: "\\$x" },
    { key: "D", value: "" },
  ]);
  assert.deepEqual(one("ENV LEGACY some value  here", "ENV").pairs, [
    { key: "LEGACY", value: "some value  here" },
  ]);
  assert.deepEqual(one('LABEL "com.example.vendor"="ACME Inc" version=1.0', "LABEL").pairs, [
    { key: '"com.example.vendor"', value: '"ACME Inc"' },
    { key: "version", value: "1.0" },
  ]);
  assert.deepEqual(one("LABEL multi.line=a \\\n  other=b", "LABEL").pairs.length, 2);
});

Deno.test("parse() reads ARG, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, MAINTAINER, SHELL", () => {
  assert.deepEqual(one("ARG A B=2 C=", "ARG").args, [
    { name: "A" },
    { name: "B", value: "2" },
    { name: "C", value: "" },
  ]);
  assert.deepEqual(one("EXPOSE 80/tcp 53/udp $PORT", "EXPOSE").ports, [
    "80/tcp",
    "53/udp",
    "$PORT",
  ]);
  assert.deepEqual(one('VOLUME ["/data", "/var/log x"]', "VOLUME").paths, ["/data", "/var/log x"]);
  assert.deepEqual(one("VOLUME /a /b", "VOLUME").paths, ["/a", "/b"]);
  assert.equal(one("USER app:app", "USER").value, "app:app");
  assert.equal(one("WORKDIR /path with space", "WORKDIR").value, "/path with space");
  assert.equal(one("STOPSIGNAL SIGKILL", "STOPSIGNAL").value, "SIGKILL");
  assert.equal(one("MAINTAINER Jane <j@x.org>", "MAINTAINER").value, "Jane <j@x.org>");
  assert.deepEqual(one('SHELL ["powershell", "-command"]', "SHELL").shell, [
    "powershell",
    "-command",
  ]);
});

Deno.test("parse() reads HEALTHCHECK NONE and CMD with its options", () => {
  assert.deepEqual(one("HEALTHCHECK NONE", "HEALTHCHECK").test, ["NONE"]);
  const hc = one(
    "HEALTHCHECK --interval=1m30s --timeout=10s --start-period=0.5s --start-interval=5ms --retries=3 cmd curl -f http://localhost/ || exit 1",
    "HEALTHCHECK",
  );
  assert.deepEqual(hc.test, ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]);
  assert.deepEqual([hc.interval, hc.timeout, hc.startPeriod, hc.startInterval, hc.retries], [
    90e9,
    10e9,
    0.5e9,
    5e6,
    3,
  ]);
  assert.deepEqual(one('HEALTHCHECK CMD ["/bin/check", "--quick"]', "HEALTHCHECK").test, [
    "CMD",
    "/bin/check",
    "--quick",
  ]);
});

Deno.test("parse() reads ONBUILD with its trigger parsed and kept as written", () => {
  const ob = one("ONBUILD   ADD . /app/src", "ONBUILD");
  assert.equal(ob.expression, "ADD . /app/src");
  assert.equal(ob.trigger.keyword, "ADD");
  assert.deepEqual((ob.trigger as CopyInstr).sources, ["."]);
  assert.equal(ob.trigger.column, 11);
  assert.equal(one("onbuild run echo hi", "ONBUILD").trigger.keyword, "RUN");
});

Deno.test("parse() treats keywords case-insensitively and keeps the original text", () => {
  const [env, copy] = instrs("env A=1\ncOpY a b\n");
  assert.equal(env!.keyword, "ENV");
  assert.equal(env!.original, "env A=1");
  assert.equal(copy!.keyword, "COPY");
});

/** [Dockerfile, the error message it must raise]. */
const MALFORMED: [string, string][] = [
  ["FROM x\nFOO bar\n", "Dockerfile:2:1: unknown instruction: FOO"],
  ["FROM x\n  fom y\n", "Dockerfile:2:3: unknown instruction: fom"],
  ["FROM\n", "Dockerfile:1:1: FROM requires either one or three arguments"],
  ["FROM a b\n", "Dockerfile:1:1: FROM requires either one or three arguments"],
  ["FROM a AT b\n", "Dockerfile:1:1: FROM requires either one or three arguments"],
  [
    "FROM a AS 1st\n",
    `Dockerfile:1:1: invalid name for build stage: "1st", name can't start with a number or contain symbols`,
  ],
  ["FROM a AS x\nFROM b AS X\n", `Dockerfile:2:1: duplicate stage name "x"`],
  ["RUN echo\nFROM x\n", "Dockerfile:1:1: no build stage in current context"],
  ["# only a comment\n\n", "Dockerfile:2: file with no instructions"],
  ["FROM x\nENV\n", "Dockerfile:2:1: ENV requires at least one argument"],
  ["FROM x\nENV =x\n", "Dockerfile:2:1: ENV names can not be blank"],
  ["FROM x\nENV A\n", "Dockerfile:2:1: ENV must have two arguments"],
  [
    "FROM x\nENV A=1 B\n",
    `Dockerfile:2:1: Syntax error - can't find = in "B". Must be of the form: name=value`,
  ],
  ["FROM x\nLABEL\n", "Dockerfile:2:1: LABEL requires at least one argument"],
  ["FROM x\nARG\n", "Dockerfile:2:1: ARG requires at least one argument"],
  ["FROM x\nARG =1\n", "Dockerfile:2:1: ARG names can not be blank"],
  ["FROM x\nRUN <<EOF\necho\n", "Dockerfile:2: unterminated heredoc"],
  [
    "FROM x\nCOPY a <<EOF\nx\nEOF\n",
    "Dockerfile:2:1: COPY cannot accept a heredoc as a destination",
  ],
  [
    "FROM x\nCOPY onlyone\n",
    "Dockerfile:2:1: COPY requires at least two arguments, but only one was provided. Destination could not be determined.",
  ],
  [
    "FROM x\nSHELL /bin/bash -c\n",
    "Dockerfile:2:1: SHELL requires the arguments to be in JSON form",
  ],
  [
    'FROM x\nSHELL ["/bin/bash", -c]\n',
    "Dockerfile:2:1: SHELL requires the arguments to be in JSON form",
  ],
  [
    'FROM x\nCMD ["a", 1]\n',
    "Dockerfile:2:1: when using JSON array syntax, arrays must be comprised of strings only",
  ],
  ["# escape=x\nFROM x\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"],
  [
    "# escape=`\n# escape=\\\nFROM x\n",
    "Dockerfile:2: only one escape parser directive can be used",
  ],
  ["FROM x\nCOPY --frm=a b c\n", "Dockerfile:2:6: unknown flag: --frm"],
  ["FROM --platform=a --pull x\n", "Dockerfile:1:19: unknown flag: --pull"],
  ["FROM x\nENV --a=1 B=2\n", "Dockerfile:2:5: unknown flag: --a"],
  ["FROM x\nCOPY --from a b\n", "Dockerfile:2:6: missing a value on flag: --from"],
  [
    "FROM x\nCOPY --link=maybe a b\n",
    "Dockerfile:2:6: expecting boolean value for flag --link, not: maybe",
  ],
  ["FROM x\nCOPY --from=a --from=b c d\n", "Dockerfile:2:15: duplicate flag specified: --from"],
  ["FROM x\nUSER\n", "Dockerfile:2:1: USER requires exactly one argument"],
  ["FROM x\nWORKDIR\n", "Dockerfile:2:1: WORKDIR requires exactly one argument"],
  ["FROM x\nSTOPSIGNAL\n", "Dockerfile:2:1: STOPSIGNAL requires exactly one argument"],
  ["FROM x\nEXPOSE\n", "Dockerfile:2:1: EXPOSE requires at least one argument"],
  ["FROM x\nVOLUME\n", "Dockerfile:2:1: VOLUME requires at least one argument"],
  ['FROM x\nVOLUME ["/a", " "]\n', "Dockerfile:2:1: VOLUME specified can not be an empty string"],
  ["FROM x\nHEALTHCHECK\n", "Dockerfile:2:1: HEALTHCHECK requires at least one argument"],
  ["FROM x\nHEALTHCHECK NONE x\n", "Dockerfile:2:1: HEALTHCHECK NONE takes no arguments"],
  ["FROM x\nHEALTHCHECK RUN x\n", `Dockerfile:2:1: Unknown type "RUN" in HEALTHCHECK (try CMD)`],
  ["FROM x\nHEALTHCHECK CMD\n", "Dockerfile:2:1: Missing command after HEALTHCHECK CMD"],
  [
    "FROM x\nHEALTHCHECK --interval=5 CMD x\n",
    `Dockerfile:2:1: time: missing unit in duration "5"`,
  ],
  [
    "FROM x\nHEALTHCHECK --interval=1x CMD x\n",
    `Dockerfile:2:1: time: unknown unit "x" in duration "1x"`,
  ],
  [
    "FROM x\nHEALTHCHECK --timeout=10us CMD x\n",
    `Dockerfile:2:1: Interval "timeout" cannot be less than 1ms`,
  ],
  ["FROM x\nHEALTHCHECK --retries=-1 CMD x\n", "Dockerfile:2:1: --retries cannot be negative (-1)"],
  [
    "FROM x\nONBUILD ONBUILD RUN x\n",
    "Dockerfile:2:1: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
  ],
  ["FROM x\nONBUILD FROM y\n", "Dockerfile:2:1: FROM isn't allowed as an ONBUILD trigger"],
  [
    "FROM x\nONBUILD MAINTAINER me\n",
    "Dockerfile:2:1: MAINTAINER isn't allowed as an ONBUILD trigger",
  ],
  ["FROM x\nONBUILD Bogus y\n", "Dockerfile:2:9: unknown instruction: Bogus"],
];

Deno.test("parse() rejects malformed Dockerfiles with Docker's message, line and column", () => {
  assert.ok(MALFORMED.length >= 15);
  for (const [text, message] of MALFORMED) {
    assert.throws(
      () => parse(text),
      (e) => e instanceof DockerfileError && e instanceof InvalidError && e.message === message,
      `${JSON.stringify(text)} should fail with ${message}`,
    );
  }
});

Deno.test("parse() names the file given in errors and exposes line, column and reason", () => {
  try {
    parse("FROM x\n\nRUN ok\n  BAD thing\n", { file: "build/Dockerfile.dev" });
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof DockerfileError);
    assert.equal(e.message, "build/Dockerfile.dev:4:3: unknown instruction: BAD");
    assert.deepEqual([e.file, e.line, e.column, e.reason], [
      "build/Dockerfile.dev",
      4,
      3,
      "unknown instruction: BAD",
    ]);
  }
});
