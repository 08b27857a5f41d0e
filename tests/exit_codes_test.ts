/**
 * Docker's exit codes, decided in one place (lib/cli/_command.ts
 * exitCodeFor), and the global options that change what a command does:
 * `--config`/`DOCKER_CONFIG` and `-H`/`DOCKER_HOST`. These run berth's
 * `main` in this process; tests/parity_test.ts runs the same rules against
 * docker itself.
 */
import assert from "node:assert/strict";
import { FlagError } from "../lib/cli/_args.ts";
import { type Context, exitCodeFor } from "../lib/cli/_command.ts";
import { main } from "../lib/cli/mod.ts";
import { ConflictError, EngineError, NotFoundError, UsageError } from "../lib/errors.ts";
import { withTempDir } from "./_helpers.ts";

Deno.test("exitCodeFor: 125 for flags and run, 1 for other refusals, an error's own code kept", () => {
  const missing = new NotFoundError("No such container: x");
  const cases: [string | undefined, unknown, number][] = [
    ["rm", missing, 1],
    ["container rm", new ConflictError("You cannot remove a running container"), 1],
    ["kill", new ConflictError("is not running"), 1],
    ["pull", new EngineError('Cannot reach registry "localhost:1"'), 1],
    ["ps", new UsageError("Invalid filter 'colour'"), 1],
    ["ps", new FlagError("unknown flag: --bogus"), 125],
    ["create", new FlagError("unknown flag: --bogus"), 125],
    ["create", new UsageError("invalid pull option"), 125],
    ["create", missing, 1],
    ["container create", new ConflictError("name in use"), 1],
    ["run", missing, 125],
    ["container run", new ConflictError("name in use"), 125],
    ["run", new EngineError("exec failed", { exitCode: 127 }), 127],
    ["exec", new EngineError("cannot start", { exitCode: 126 }), 126],
    ["exec", new ConflictError("is not running"), 1],
    ["build", new EngineError("step failed", { exitCode: 1 }), 1],
    ["rm", new UsageError('"berth rm" requires at least 1 argument', { exitCode: 1 }), 1],
    ["runtime create", new EngineError("bad config.json"), 125],
    ["images", new TypeError("not an EngineError"), 1],
    [undefined, new FlagError("unknown flag: --bogus"), 125],
  ];
  for (const [command, error, code] of cases) {
    assert.equal(exitCodeFor(command, error), code, `${command}: ${String(error)}`);
  }
});

/** Runs berth's main in this process on `root`, capturing what it prints. */
async function inProcess(root: string, argv: string[]) {
  let stdout = "";
  let stderr = "";
  const ctx: Context = {
    root,
    runRoot: `${root}/run`,
    debug: false,
    self: [],
    print: (t) => void (stdout += t),
    printErr: (t) => void (stderr += t),
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
    stdinIsTerminal: false,
  };
  const code = await main(argv, ctx);
  return { code, stdout, stderr };
}

/** Runs `fn` with environment variables set, restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  };
  set(vars);
  try {
    return await fn();
  } finally {
    set(saved);
  }
}

Deno.test("usage: 125 for a flag, 1 for an argument count or an unknown command, one line each", async () => {
  await withTempDir(async (dir) => {
    const cases: [string[], number, RegExp][] = [
      [["rm", "--bogus", "x"], 125, /^Error: unknown flag: --bogus/],
      [["ps", "-a=maybe"], 125, /invalid argument "maybe" for "-a, --all" flag/],
      [["rm"], 1, /"berth rm" requires at least 1 argument/],
      [["frobnicate"], 1, /unknown command: "berth frobnicate"/],
      [["image", "frob"], 1, /unknown command: "berth image frob"/],
      [["--bogus", "ps"], 125, /unknown flag: --bogus/],
    ];
    for (const [argv, code, message] of cases) {
      const out = await inProcess(`${dir}/root`, argv);
      assert.equal(out.code, code, argv.join(" "));
      assert.equal(out.stdout, "");
      assert.match(out.stderr, message);
      assert.equal(out.stderr.split("\n").length, 2, `one line: ${out.stderr}`);
    }
  });
});

Deno.test("-H and DOCKER_HOST: anything but this machine's socket is refused with exit 1", async () => {
  await withTempDir(async (dir) => {
    await withEnv({ DOCKER_HOST: undefined }, async () => {
      const flag = await inProcess(`${dir}/root`, ["-H", "tcp://10.0.0.1:2375", "ps"]);
      assert.equal(flag.code, 1);
      assert.equal(flag.stdout, "");
      assert.match(
        flag.stderr,
        /^Error: Cannot connect to the Docker daemon at tcp:\/\/10\.0\.0\.1:2375: berth has no daemon/,
      );
      const two = await inProcess(`${dir}/root`, ["-H", "unix:///a", "-H", "unix:///b", "ps"]);
      assert.equal(two.code, 1);
      assert.match(two.stderr, /Please specify only one -H/);
      const local = await inProcess(`${dir}/root`, ["-H", "unix:///var/run/docker.sock", "ps"]);
      assert.equal(local.code, 0, local.stderr);
    });
    await withEnv({ DOCKER_HOST: "ssh://someone@elsewhere" }, async () => {
      const env = await inProcess(`${dir}/root`, ["ps"]);
      assert.equal(env.code, 1);
      assert.match(env.stderr, /at ssh:\/\/someone@elsewhere: berth has no daemon/);
      // --version answers whatever the host: it reaches no engine.
      assert.equal((await inProcess(`${dir}/root`, ["--version"])).code, 0);
    });
  });
});

Deno.test("--config DIR and DOCKER_CONFIG: config.json's psFormat and imagesFormat", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/cfg`);
    await Deno.writeTextFile(
      `${dir}/cfg/config.json`,
      JSON.stringify({ psFormat: "table {{.Names}}", imagesFormat: "table {{.Repository}}" }),
    );
    await withEnv(
      { BERTH_CONFIG: undefined, DOCKER_CONFIG: undefined, HOME: `${dir}/home` },
      async () => {
        const plain = await inProcess(`${dir}/root`, ["ps"]);
        assert.equal(plain.code, 0, plain.stderr);
        assert.match(plain.stdout, /^CONTAINER ID +IMAGE/);

        const flag = await inProcess(`${dir}/root`, ["--config", `${dir}/cfg`, "ps"]);
        assert.deepEqual([flag.code, flag.stdout], [0, "NAMES\n"], flag.stderr);
        // The command line's --format wins over the file's.
        const given = await inProcess(`${dir}/root`, [
          ...["--config", `${dir}/cfg`, "ps", "--format", "table {{.ID}}"],
        ]);
        assert.equal(given.stdout, "CONTAINER ID\n");
        Deno.env.delete("BERTH_CONFIG");

        Deno.env.set("DOCKER_CONFIG", `${dir}/cfg`);
        const images = await inProcess(`${dir}/root`, ["images"]);
        assert.deepEqual([images.code, images.stdout], [0, "REPOSITORY\n"], images.stderr);
      },
    );
  });
});

Deno.test("config.json's detachKeys is the default of --detach-keys, an empty flag included", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/cfg`);
    await Deno.writeTextFile(`${dir}/cfg/config.json`, JSON.stringify({ detachKeys: "ctrl-1" }));
    await withEnv({ BERTH_CONFIG: undefined, DOCKER_CONFIG: undefined }, async () => {
      // attach reads its keys before it looks for the container.
      for (const flags of [[], ["--detach-keys="]]) {
        const out = await inProcess(`${dir}/root`, [
          ...["--config", `${dir}/cfg`, "attach", ...flags, "nosuch"],
        ]);
        assert.equal(out.stderr, "Error: Invalid detach keys (ctrl-1) provided\n");
      }
      const given = await inProcess(`${dir}/root`, [
        ...["--config", `${dir}/cfg`, "attach", "--detach-keys", "ctrl-a", "nosuch"],
      ]);
      assert.equal(given.stderr, "Error: No such container: nosuch\n");
      assert.equal(given.code, 1);
    });
  });
});

Deno.test("--config DIR and DOCKER_CONFIG hold the credentials login and logout use", async () => {
  await withTempDir(async (dir) => {
    const auths = { auths: { "registry.example:5000": { auth: btoa("u:p") } } };
    for (const how of ["flag", "env"]) {
      const cfg = `${dir}/${how}`;
      await Deno.mkdir(cfg);
      await Deno.writeTextFile(`${cfg}/config.json`, JSON.stringify(auths));
      await withEnv(
        { BERTH_CONFIG: undefined, DOCKER_CONFIG: how === "env" ? cfg : undefined },
        async () => {
          const argv = how === "flag" ? ["--config", cfg] : [];
          const out = await inProcess(`${dir}/root`, [...argv, "logout", "registry.example:5000"]);
          assert.equal(out.stdout, "Removing login credentials for registry.example:5000\n");
          const left = JSON.parse(await Deno.readTextFile(`${cfg}/config.json`));
          assert.equal(left.auths["registry.example:5000"], undefined, how);
        },
      );
    }
  });
});

Deno.test("a config.json that is not JSON is one clear error", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/cfg`);
    await Deno.writeTextFile(`${dir}/cfg/config.json`, "{not json");
    await withEnv({ BERTH_CONFIG: undefined, HOME: `${dir}/home` }, async () => {
      const out = await inProcess(`${dir}/root`, ["--config", `${dir}/cfg`, "ps"]);
      assert.equal(out.code, 1);
      assert.match(out.stderr, /^Error: Invalid config file ".*cfg\/config.json"/);
    });
  });
});
