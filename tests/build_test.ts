/**
 * `berth build` end to end, as root, from a busybox image: a multi-stage
 * build with every kind of step; the cache (a rebuild is all CACHED with the
 * same image ID, a changed file rebuilds from its step on, layers named by
 * the cache survive rmi, `builder prune` empties it); deletions in RUN as
 * whiteouts; `.dockerignore`; the saved image read by skopeo; ADD of URLs;
 * and bad input failing with Docker's message and nothing left behind.
 */
import assert from "node:assert/strict";
import { berthArgs, have, listDir, run } from "./_helpers.ts";
import { type Env, withBusybox } from "./_containers.ts";

/** Writes `files` (path -> text) under `dir`. */
async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    const full = `${dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
}

const DOCKERFILE = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM \${BASE} AS build
ARG GREETING=hello
ENV APP_HOME=/app
WORKDIR $APP_HOME
COPY src/ ./src/
COPY scratch.txt /tmp/scratch.txt
RUN echo "$GREETING from build" > built.txt && rm /tmp/scratch.txt
RUN <<EOF
echo "from a heredoc" > /app/heredoc.txt
EOF

FROM busybox
ARG GREETING
ENV MODE=prod GREETING_SEEN=$GREETING
COPY --from=build /app /app
ADD data.tar /data/
RUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && rm /bin/vi
USER app
WORKDIR /srv/work
LABEL org.example.kind=test
EXPOSE 8080
CMD ["sh", "-c", "cat /app/built.txt"]
`;

async function makeContext(env: Env): Promise<string> {
  const ctx = `${env.dir}/ctx`;
  await writeFiles(ctx, {
    "Dockerfile": DOCKERFILE,
    "src/main.txt": "version 1\n",
    "scratch.txt": "to be deleted\n",
    "secret.txt": "never in the image\n",
    ".dockerignore": "secret.txt\n",
    "tarsrc/inner/t.txt": "from the tar\n",
  });
  const tar = await run("tar", ["-cf", `${ctx}/data.tar`, "-C", `${ctx}/tarsrc`, "."]);
  assert.equal(tar.code, 0, tar.stderr);
  return ctx;
}

/** The steps of a plain progress output that were CACHED / that ran. */
function steps(stderr: string): { cached: string[]; ran: string[] } {
  const names = new Map<string, string>();
  const cached: string[] = [];
  const ran: string[] = [];
  for (const line of stderr.split("\n")) {
    const step = /^#(\d+) (\[.*)$/.exec(line);
    if (step) names.set(step[1]!, step[2]!);
    const end = /^#(\d+) (CACHED|DONE)/.exec(line);
    if (end && names.has(end[1]!)) (end[2] === "CACHED" ? cached : ran).push(names.get(end[1]!)!);
  }
  return { cached, ran };
}

Deno.test("build: a multi-stage image runs with its files, env and user; rebuilds hit the cache", async () => {
  await withBusybox(async (env) => {
    const { b, dir } = env;
    const ctx = await makeContext(env);
    const first = await b(["build", "-t", "demo:1", "--build-arg", "GREETING=hi", ctx]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /\[build 4\/6\] COPY scratch\.txt \/tmp\/scratch\.txt/);
    assert.match(first.stderr, /naming to docker\.io\/library\/demo:1 done/);
    const id = /writing image (sha256:[0-9a-f]{64}) done/.exec(first.stderr)?.[1];
    assert.ok(id, first.stderr);

    const shown = await b(["run", "--rm", "demo:1"]);
    assert.equal(shown.stdout, "hi from build\n");
    const inside = await b([
      "run",
      "--rm",
      "demo:1",
      "sh",
      "-c",
      "id -u; pwd; echo $MODE $GREETING_SEEN $APP_HOME; cat /app/src/main.txt /app/heredoc.txt /data/inner/t.txt; " +
      "ls /tmp/scratch.txt /bin/vi /app/secret.txt 2>&1; ls /app",
    ]);
    assert.equal(
      inside.stdout,
      "1000\n/srv/work\nprod hi\nversion 1\nfrom a heredoc\nfrom the tar\n" +
        "ls: /tmp/scratch.txt: No such file or directory\n" +
        "ls: /bin/vi: No such file or directory\n" +
        "ls: /app/secret.txt: No such file or directory\n" +
        "built.txt\nheredoc.txt\nsrc\n",
    );
    // The build stage had scratch.txt in a lower layer: its RUN layer carries the whiteout.
    const inBuild = await b(["build", "-q", "--target", "build", ctx]);
    assert.equal(inBuild.code, 0, inBuild.stderr);
    const buildId = inBuild.stdout.trim();
    const gone = await b(["run", "--rm", buildId, "sh", "-c", "ls /tmp; ls /app/src"]);
    assert.equal(gone.stdout, "main.txt\n");

    // The files berth mounts into a RUN's container are no part of its layer.
    for (const layer of listDir(`${dir}/root/layers`)) {
      for (const file of ["hosts", "resolv.conf", "hostname"]) {
        assert.throws(() => Deno.lstatSync(`${dir}/root/layers/${layer}/diff/etc/${file}`));
      }
    }

    const inspect = JSON.parse((await b(["image", "inspect", "demo:1"])).stdout)[0];
    assert.equal(inspect.Config.User, "app");
    assert.equal(inspect.Config.WorkingDir, "/srv/work");
    assert.deepEqual(inspect.Config.Cmd, ["sh", "-c", "cat /app/built.txt"]);
    assert.deepEqual(inspect.Config.ExposedPorts, { "8080/tcp": {} });
    assert.equal(inspect.Config.Labels["org.example.kind"], "test");
    assert.ok(inspect.Config.Env.includes("MODE=prod"));
    const history = await b(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "demo:1"]);
    assert.match(history.stdout, /^CMD \["sh" "-c" "cat \/app\/built.txt"\]$/m);
    assert.match(history.stdout, /^COPY --from=build \/app \/app # buildkit$/m);
    assert.match(history.stdout, /^ENV MODE=prod GREETING_SEEN=hi$/m);

    // Nothing changed: every step CACHED, the same image ID.
    const again = await b(["build", "-t", "demo:1", "--build-arg", "GREETING=hi", ctx]);
    assert.equal(again.code, 0, again.stderr);
    const { cached, ran } = steps(again.stderr);
    assert.deepEqual(ran.filter((s) => !/ FROM /.test(s)), []);
    assert.equal(cached.length, 9, again.stderr);
    assert.equal(/writing image (sha256:[0-9a-f]{64})/.exec(again.stderr)?.[1], id);

    // A changed source: the steps before it are cached, it and the ones after run again.
    await Deno.writeTextFile(`${ctx}/src/main.txt`, "version 2\n");
    const changed = await b(["build", "-t", "demo:2", "--build-arg", "GREETING=hi", ctx]);
    assert.equal(changed.code, 0, changed.stderr);
    const after = steps(changed.stderr);
    assert.deepEqual(after.cached, ["[build 2/6] WORKDIR $APP_HOME"]);
    assert.ok(after.ran.includes("[build 3/6] COPY src/ ./src/"));
    assert.ok(
      after.ran.includes(
        '[build 5/6] RUN echo "$GREETING from build" > built.txt && rm /tmp/scratch.txt',
      ),
    );
    const v2 = await b(["run", "--rm", "demo:2", "cat", "/app/src/main.txt"]);
    assert.equal(v2.stdout, "version 2\n");

    // The cache keeps its layers from the collector: after rmi the rebuild is still cached.
    assert.equal((await b(["rmi", "demo:1"])).code, 0);
    await Deno.writeTextFile(`${ctx}/src/main.txt`, "version 1\n");
    const back = await b(["build", "-q", "--build-arg", "GREETING=hi", ctx]);
    assert.equal(back.stdout.trim(), id);

    // The saved image is a Docker archive skopeo turns into an OCI layout.
    assert.ok(have("skopeo"), "skopeo is missing: run scripts/setup.sh");
    const saved = await b(["save", "-o", `${dir}/demo.tar`, "demo:2"]);
    assert.equal(saved.code, 0, saved.stderr);
    const copied = await run("skopeo", [
      "copy",
      `docker-archive:${dir}/demo.tar`,
      `oci:${dir}/oci:demo`,
    ]);
    assert.equal(copied.code, 0, copied.stderr);
    const index = JSON.parse(await Deno.readTextFile(`${dir}/oci/index.json`));
    assert.equal(index.manifests.length, 1);

    // builder prune -a empties the cache: the next build runs every step.
    const pruned = await b(["builder", "prune", "-af"]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /Total reclaimed space: /);
    assert.deepEqual(listDir(`${dir}/root/build-cache`), []);
    const cold = await b(["build", "-t", "demo:3", "--build-arg", "GREETING=hi", ctx]);
    assert.equal(cold.code, 0, cold.stderr);
    assert.deepEqual(steps(cold.stderr).cached, []);
    const noCache = await b(["build", "--no-cache", "--build-arg", "GREETING=hi", ctx]);
    assert.deepEqual(steps(noCache.stderr).cached, []);
  });
});

Deno.test("build: context from stdin, -f -, --iidfile, COPY --chown/--chmod, heredoc COPY, ADD of a URL", async () => {
  await withBusybox(async (env) => {
    const { b, dir } = env;
    const body = new TextEncoder().encode("served over http\n");
    const ac = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
      (req) =>
        new URL(req.url).pathname === "/file.txt"
          ? new Response(body)
          : new Response("no", { status: 404 }),
    );
    try {
      const port = server.addr.port;
      const sum = await run("sh", ["-c", "printf 'served over http\\n' | sha256sum"]);
      const digest = `sha256:${sum.stdout.split(" ")[0]}`;
      await writeFiles(`${dir}/c`, { "a.txt": "a\n" });
      const dockerfile = `FROM busybox
COPY --chown=nobody:nogroup --chmod=0640 a.txt /owned/a.txt
COPY <<EOF /etc/greeting
hello
EOF
ADD --checksum=${digest} http://127.0.0.1:${port}/file.txt /web/
RUN stat -c '%U:%G %a' /owned/a.txt > /stat.txt
`;
      const built = await b(
        ["build", "-f", "-", "--iidfile", `${dir}/iid`, "-q", `${dir}/c`],
        { stdin: new TextEncoder().encode(dockerfile) },
      );
      assert.equal(built.code, 0, built.stderr);
      const id = built.stdout.trim();
      assert.equal(await Deno.readTextFile(`${dir}/iid`), id);
      const out = await b([
        "run",
        "--rm",
        id,
        "cat",
        "/stat.txt",
        "/etc/greeting",
        "/web/file.txt",
      ]);
      assert.equal(out.stdout, "nobody:nogroup 640\nhello\nserved over http\n");

      // A wrong checksum and an unreachable URL fail with a clear message.
      const wrong = dockerfile.replace(digest, `sha256:${"0".repeat(64)}`);
      const bad = await b(["build", "-f", "-", `${dir}/c`], {
        stdin: new TextEncoder().encode(wrong),
      });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /digest mismatch/);
      const gone = `FROM busybox\nADD http://127.0.0.1:1/nothing /x\n`;
      const unreachable = await b(["build", "-f", "-", `${dir}/c`], {
        stdin: new TextEncoder().encode(gone),
      });
      assert.equal(unreachable.code, 1);
      assert.match(unreachable.stderr, /Get "http:\/\/127\.0\.0\.1:1\/nothing"/);

      // FILE.dockerignore beside the Dockerfile wins over the context's .dockerignore.
      await writeFiles(`${dir}/ig`, {
        "x.txt": "x\n",
        "y.txt": "y\n",
        ".dockerignore": "x.txt\n",
        "custom.Dockerfile.dockerignore": "y.txt\n",
        "custom.Dockerfile": "FROM busybox\nCOPY x.txt /x\n",
        "other.Dockerfile": "FROM busybox\nCOPY y.txt /y\n",
      });
      const kept = await b(["build", "-q", "-f", `${dir}/ig/custom.Dockerfile`, `${dir}/ig`]);
      assert.equal(kept.code, 0, kept.stderr);
      const custom = await Deno.readTextFile(`${dir}/ig/custom.Dockerfile`);
      await Deno.writeTextFile(
        `${dir}/ig/custom.Dockerfile`,
        custom.replace("COPY x.txt /x", "COPY y.txt /y"),
      );
      const left = await b(["build", "-q", "-f", `${dir}/ig/custom.Dockerfile`, `${dir}/ig`]);
      assert.equal(left.code, 1);
      assert.match(left.stderr, /"\/y\.txt": not found/);
      const plain = await b(["build", "-q", "-f", `${dir}/ig/other.Dockerfile`, `${dir}/ig`]);
      assert.equal(plain.code, 0, plain.stderr);

      // The context as a tar on stdin.
      await writeFiles(`${dir}/t`, { "Dockerfile": "FROM busybox\nCOPY x /x\n", "x": "in tar\n" });
      const tar = await run("tar", ["-cf", `${dir}/ctx.tar`, "-C", `${dir}/t`, "."]);
      assert.equal(tar.code, 0);
      const fromTar = await b(["build", "-q", "-t", "fromtar", "-"], {
        stdin: await Deno.readFile(`${dir}/ctx.tar`),
      });
      assert.equal(fromTar.code, 0, fromTar.stderr);
      assert.equal((await b(["run", "--rm", "fromtar", "cat", "/x"])).stdout, "in tar\n");
    } finally {
      ac.abort();
      await server.finished;
    }
  });
});

Deno.test("build: bad input fails with Docker's message and leaves no image, container or temp dir", async () => {
  await withBusybox(async (env) => {
    const { b, dir } = env;
    await writeFiles(`${dir}/c`, { "f": "x\n", "Dockerfile": "" });
    const before = (await b(["images", "-q", "--no-trunc"])).stdout;
    const cases: [string, RegExp, string[]?][] = [
      ["FROM busybox\nFOO bar\n", /Dockerfile:2:1: unknown instruction: FOO/],
      ["FROM busybox\nCOPY nothere /x\n", /"\/nothere": not found/],
      ["FROM busybox\nCOPY ../x /x\n", /forbidden path outside the build context: \.\.\/x/],
      [
        "FROM busybox\nRUN echo some output; false\n",
        /process "\/bin\/sh -c echo some output; false" did not complete successfully: exit code: 1/,
      ],
      [
        "FROM busybox AS a\nRUN true\n",
        /target stage "nope" could not be found/,
        ["--target", "nope"],
      ],
      [
        "FROM busybox AS a\nCOPY --from=b /f /f\nFROM busybox AS b\nCOPY --from=a /f /f\n",
        /circular dependency detected on stage: /,
        ["--target", "b"],
      ],
    ];
    for (const [text, message, extra] of cases) {
      await Deno.writeTextFile(`${dir}/c/Dockerfile`, text);
      const out = await b(["build", ...(extra ?? []), `${dir}/c`]);
      assert.equal(out.code, 1, `${text}: ${out.stderr}`);
      assert.match(out.stderr, message);
      if (text.includes("some output")) assert.match(out.stderr, /#2 [0-9.]+ some output/);
      assert.equal((await b(["ps", "-aq"])).stdout, "", "no build container is left");
      assert.deepEqual(listDir(`${dir}/root/tmp`), [], "no temp dir is left");
      assert.equal((await b(["images", "-q", "--no-trunc"])).stdout, before, "no image is made");
    }
  });
});

Deno.test("build: config instructions, SHELL, a #! heredoc, and ONBUILD triggers in a child build", async () => {
  await withBusybox(async (env) => {
    const { b, dir } = env;
    await writeFiles(`${dir}/c`, {
      "Dockerfile": `FROM busybox
ONBUILD RUN echo triggered > /onbuild.txt
SHELL ["/bin/sh", "-ec"]
RUN <<EOF
#!/bin/awk -f
BEGIN { print "awk ran" > "/awk.txt" }
EOF
EXPOSE 8000-8001/udp
HEALTHCHECK --interval=5s CMD true
STOPSIGNAL SIGINT
VOLUME /data
ENTRYPOINT ["/bin/sh", "-c"]
`,
      "Child": "FROM base\nRUN cat /onbuild.txt\n",
    });
    const base = await b(["build", "-t", "base", `${dir}/c`]);
    assert.equal(base.code, 0, base.stderr);
    const config = JSON.parse(
      (await b(["image", "inspect", "-f", "{{json .Config}}", "base"])).stdout,
    );
    assert.deepEqual(config.ExposedPorts, { "8000/udp": {}, "8001/udp": {} });
    assert.deepEqual(config.Healthcheck, { Test: ["CMD-SHELL", "true"], Interval: 5e9 });
    assert.equal(config.StopSignal, "SIGINT");
    assert.deepEqual(config.Volumes, { "/data": {} });
    assert.deepEqual(config.Entrypoint, ["/bin/sh", "-c"]);
    assert.deepEqual(config.Shell, ["/bin/sh", "-ec"]);
    assert.deepEqual(config.OnBuild, ["RUN echo triggered > /onbuild.txt"]);
    const history = await b(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "base"]);
    assert.match(history.stdout, /^SHELL \[\/bin\/sh -ec\]$/m);
    assert.match(history.stdout, /^EXPOSE map\[8000\/udp:\{\} 8001\/udp:\{\}\]$/m);

    const child = await b(["build", "-f", `${dir}/c/Child`, "-t", "child", `${dir}/c`]);
    assert.equal(child.code, 0, child.stderr);
    assert.match(child.stderr, /RUN echo triggered > \/onbuild\.txt/);
    assert.match(child.stderr, /#\d+ [0-9.]+ triggered/);
    const out = await b([
      "run",
      "--rm",
      "--entrypoint",
      "cat",
      "child",
      "/awk.txt",
      "/onbuild.txt",
    ]);
    assert.equal(out.stdout, "awk ran\ntriggered\n");
    const inspected = await b(["image", "inspect", "-f", "{{json .Config.OnBuild}}", "child"]);
    assert.equal(inspected.stdout.trim(), "null");
  });
});

Deno.test("build: an interrupted RUN is killed and leaves no container, mount or temp dir", async () => {
  await withBusybox(async ({ b, dir }) => {
    await writeFiles(`${dir}/c`, { "Dockerfile": "FROM busybox\nRUN echo started; sleep 60\n" });
    const child = new Deno.Command(Deno.execPath(), {
      args: berthArgs(`${dir}/root`, ["--run-root", `${dir}/run`, "build", `${dir}/c`]),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    let stderr = "";
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    while (!stderr.includes(" started\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      stderr += value;
    }
    child.kill("SIGINT");
    for (let r = await reader.read(); !r.done; r = await reader.read()) stderr += r.value;
    const status = await child.status;
    assert.equal(status.code, 1, stderr);
    assert.match(stderr, /Canceled: context canceled/);
    assert.equal((await b(["ps", "-aq"])).stdout, "");
    assert.deepEqual(listDir(`${dir}/root/tmp`), []);
  });
});

Deno.test("build --progress tty: BuildKit's block of steps, CACHED on a rebuild, and a failed step's output under it", async () => {
  await withBusybox(async (env) => {
    const ctx = `${env.dir}/ttyctx`;
    await writeFiles(ctx, {
      "Dockerfile": 'FROM busybox\nRUN echo made > /made\nCMD ["cat", "/made"]\n',
      "Dockerfile.bad": "FROM busybox\nRUN echo some output; exit 3\n",
    });
    const first = await env.b(["build", "--progress", "tty", "-t", "tty:1", ctx]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /\[\+\] Building \d+\.\ds \(2\/2\) FINISHED/);
    assert.match(first.stderr, / => \[2\/2\] RUN echo made > \/made +\d+\.\ds/);
    assert.match(first.stderr, / => => naming to docker\.io\/library\/tty:1/);
    assert.ok(!first.stderr.includes("#1 "), "no plain-progress lines");
    const again = await env.b(["build", "--progress", "tty", "-t", "tty:1", ctx]);
    assert.match(again.stderr, / => CACHED \[2\/2\] RUN echo made/);
    const bad = await env.b(["build", "--progress", "tty", "-f", `${ctx}/Dockerfile.bad`, ctx]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\(2\/2\) ERROR/);
    assert.match(
      bad.stderr,
      /------\n > \[2\/2\] RUN echo some output; exit 3:\nsome output\n------/,
    );
  });
});
