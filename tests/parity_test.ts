/**
 * Parity with docker's CLI, case by case: each row is a command line, the
 * commands that set it up, and docker's exit code (and stdout where it
 * matters). Where `docker` and `dockerd` are installed and this runs as root
 * (CI installs docker.io), a private dockerd (its networking off, its own
 * socket and directories) gets the same busybox rootfs as berth, every row
 * runs through both (`--network none` for run/create), and berth must give
 * docker's exit code and, where the row says so, its stdout with IDs and
 * times masked. Without docker, berth must give the row's values, which are
 * docker 28's.
 */
import assert from "node:assert/strict";
import { berth, have, makeRootfs, type Run, withTempDir } from "./_helpers.ts";

/** One command line of the table. */
interface Case {
  /** What the row checks. */
  what: string;
  /** The command line after the engine's own global flags. */
  args: string[];
  /** Command lines run first on each engine; each must succeed. */
  setup?: string[][];
  /** Environment for both engines; `$CFG` in a value is the case's config directory. */
  env?: Record<string, string>;
  /** config.json written into the case's config directory (`$CFG` in args). */
  config?: Record<string, unknown>;
  /** `-H` for both engines instead of the private daemon's socket. */
  host?: string;
  /** Docker's answer. `stdout` is compared (masked) only when given. */
  expect: { code: number; stdout?: string };
}

/** An env file for exec --env-file (a comment, a value with spaces, a bare name). */
const ENV_FILE = new URL("./testdata/exec.env", import.meta.url).pathname;

const CASES: Case[] = [
  // First, while the root holds only the busybox image: prunes of nothing, info's counts.
  {
    what: "system prune -f on an empty root",
    args: ["system", "prune", "-f"],
    expect: { code: 0, stdout: "Total reclaimed space: 0B\n" },
  },
  {
    what: "image prune --filter until=",
    args: ["image", "prune", "-f", "--filter", "until=1h"],
    expect: { code: 0, stdout: "Total reclaimed space: 0B\n" },
  },
  {
    what: "version --format '{{.Server.Version}}' is there",
    args: ["version", "--format", "{{if .Server.Version}}set{{end}}"],
    expect: { code: 0, stdout: "set\n" },
  },
  {
    // Values that differ by nature (versions, paths, the host's CPUs and memory) only
    // checked to be there; the counts compared.
    what: "info --format: the fields scripts read",
    args: [
      "info",
      "--format",
      "{{if .ServerVersion}}v{{end}} {{if .Driver}}d{{end}} {{if .DockerRootDir}}r{{end}} " +
      "{{if .CgroupVersion}}g{{end}} {{if .CgroupDriver}}c{{end}} {{if .OperatingSystem}}o{{end}} " +
      "{{if gt .NCPU 0}}n{{end}} {{if gt .MemTotal 0}}m{{end}} " +
      "{{.Images}} {{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}",
    ],
    expect: { code: 0, stdout: "v d r g c o n m 1 0 0 0 0\n" },
  },
  {
    what: "system info --format",
    args: ["system", "info", "--format", "{{.Images}}"],
    expect: { code: 0, stdout: "1\n" },
  },
  // Exit codes: 1 for what the engine refuses, 125 for flags, 0 for the -f removals of nothing.
  { what: "rm of a missing container", args: ["rm", "nosuch"], expect: { code: 1 } },
  { what: "rm -f of a missing container", args: ["rm", "-f", "nosuch"], expect: { code: 0 } },
  {
    what: "rm -f of several missing containers",
    args: ["rm", "-f", "nosuch1", "nosuch2"],
    expect: { code: 0, stdout: "" },
  },
  { what: "rm of two missing containers", args: ["rm", "nosuch1", "nosuch2"], expect: { code: 1 } },
  { what: "rmi of a missing image", args: ["rmi", "nosuch"], expect: { code: 1 } },
  { what: "rmi -f of a missing image", args: ["rmi", "-f", "nosuch"], expect: { code: 0 } },
  { what: "volume rm of a missing volume", args: ["volume", "rm", "nosuch"], expect: { code: 1 } },
  {
    what: "volume rm -f of a missing volume prints its name",
    args: ["volume", "rm", "-f", "nosuch"],
    expect: { code: 0, stdout: "nosuch\n" },
  },
  {
    what: "network rm of a missing network",
    args: ["network", "rm", "nosuch"],
    expect: { code: 1 },
  },
  {
    what: "network rm -f of a missing network",
    args: ["network", "rm", "-f", "nosuch"],
    expect: { code: 0, stdout: "" },
  },
  { what: "kill of a missing container", args: ["kill", "nosuch"], expect: { code: 1 } },
  { what: "stop of a missing container", args: ["stop", "nosuch"], expect: { code: 1 } },
  { what: "logs of a missing container", args: ["logs", "nosuch"], expect: { code: 1 } },
  { what: "wait on a missing container", args: ["wait", "nosuch"], expect: { code: 1 } },
  { what: "exec in a missing container", args: ["exec", "nosuch", "true"], expect: { code: 1 } },
  { what: "tag of a missing image", args: ["tag", "nosuch", "other"], expect: { code: 1 } },
  { what: "start of a missing container", args: ["start", "nosuch"], expect: { code: 1 } },
  { what: "pause of a missing container", args: ["pause", "nosuch"], expect: { code: 1 } },
  { what: "restart of a missing container", args: ["restart", "nosuch"], expect: { code: 1 } },
  { what: "rename of a missing container", args: ["rename", "nosuch", "x"], expect: { code: 1 } },
  { what: "attach to a missing container", args: ["attach", "nosuch"], expect: { code: 1 } },
  { what: "history of a missing image", args: ["history", "nosuch"], expect: { code: 1 } },
  {
    what: "rm -f of a present and a missing container",
    setup: [["create", "--name", "here1", "busybox", "true"]],
    args: ["rm", "-f", "nosuch", "here1"],
    expect: { code: 0, stdout: "here1\n" },
  },
  {
    what: "rm of a running container",
    setup: [["run", "-d", "--name", "busy1", "busybox", "sleep", "60"]],
    args: ["rm", "busy1"],
    expect: { code: 1 },
  },
  {
    what: "kill of a created container",
    setup: [["create", "--name", "idle1", "busybox", "true"]],
    args: ["kill", "idle1"],
    expect: { code: 1 },
  },
  {
    what: "exec in a created container",
    setup: [["create", "--name", "idle2", "busybox", "true"]],
    args: ["exec", "idle2", "true"],
    expect: { code: 1 },
  },
  {
    what: "cp of a missing path",
    setup: [["create", "--name", "idle3", "busybox", "true"]],
    args: ["cp", "idle3:/nosuch", "-"],
    expect: { code: 1 },
  },
  {
    what: "run from an unreachable registry",
    args: ["run", "--rm", "localhost:1/nosuch"],
    expect: { code: 125 },
  },
  {
    what: "create from an unreachable registry",
    args: ["create", "localhost:1/nosuch"],
    expect: { code: 1 },
  },
  {
    what: "pull from an unreachable registry (port 1)",
    args: ["pull", "localhost:1/x"],
    expect: { code: 1 },
  },
  {
    what: "run of a missing command",
    args: ["run", "--rm", "busybox", "nosuchcmd"],
    expect: { code: 127 },
  },
  { what: "run of a directory", args: ["run", "--rm", "busybox", "/etc"], expect: { code: 126 } },
  // exec's own failures: 126, the reason on stdout.
  {
    what: "exec of a missing command",
    setup: [["run", "-d", "--name", "up1", "busybox", "sleep", "60"]],
    args: ["exec", "up1", "nosuchcmd"],
    expect: {
      code: 126,
      stdout:
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown\r\n',
    },
  },
  {
    what: "exec -w of a missing directory",
    setup: [["run", "-d", "--name", "up2", "busybox", "sleep", "60"]],
    args: ["exec", "-w", "/missing", "up2", "true"],
    expect: {
      code: 126,
      stdout:
        'OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/missing") set in config.json failed: no such file or directory: unknown\r\n',
    },
  },
  {
    what: "exec -u of a missing user",
    setup: [["run", "-d", "--name", "up3", "busybox", "sleep", "60"]],
    args: ["exec", "-u", "nope", "up3", "true"],
    expect: {
      code: 126,
      stdout: "unable to find user nope: no matching entries in passwd file\r\n",
    },
  },
  {
    what: "exec -d of a missing command: the engine's refusal, 1",
    setup: [["run", "-d", "--name", "up5", "busybox", "sleep", "60"]],
    args: ["exec", "-d", "up5", "nosuchcmd"],
    expect: { code: 1, stdout: "" },
  },
  {
    what: "run -it with stdin that is not a terminal",
    args: ["run", "--rm", "-it", "busybox", "true"],
    expect: { code: 1, stdout: "" },
  },
  {
    what: "exec -it with stdin that is not a terminal",
    setup: [["run", "-d", "--name", "up4", "busybox", "sleep", "60"]],
    args: ["exec", "-it", "up4", "true"],
    expect: { code: 1, stdout: "" },
  },
  // Usage: 125 for a flag the parser refuses, 1 for the argument count or the command.
  { what: "an unknown flag", args: ["rm", "--bogus", "x"], expect: { code: 125 } },
  { what: "a bad boolean value", args: ["ps", "--all=no"], expect: { code: 125 } },
  { what: "a bad number", args: ["stop", "-t", "abc", "x"], expect: { code: 125 } },
  { what: "too few arguments", args: ["rm"], expect: { code: 1 } },
  { what: "an unknown command", args: ["frobnicate"], expect: { code: 1 } },
  // Flag syntax as docker's parser takes it.
  {
    what: "-a=false",
    setup: [["create", "--name", "idle4", "busybox", "true"]],
    args: ["ps", "-a=false", "--filter", "name=idle4", "--format", "{{.Names}}"],
    expect: { code: 0, stdout: "" },
  },
  {
    what: "--all=true",
    args: ["ps", "--all=true", "--filter", "name=idle4", "--format", "{{.Names}}"],
    expect: { code: 0, stdout: "idle4\n" },
  },
  {
    what: "-d=false and --detach=false",
    args: ["run", "--rm", "-d=false", "--detach=false", "busybox", "echo", "hi"],
    expect: { code: 0, stdout: "hi\n" },
  },
  {
    what: "-it=false",
    args: ["run", "--rm", "-it=false", "busybox", "echo", "hi"],
    expect: { code: 0, stdout: "hi\n" },
  },
  {
    what: "an empty --detach-keys=",
    args: ["run", "--rm", "--detach-keys=", "busybox", "echo", "hi"],
    expect: { code: 0, stdout: "hi\n" },
  },
  {
    what: "--memory=0 is no limit",
    args: ["run", "--rm", "--memory=0", "busybox", "echo", "hi"],
    expect: { code: 0, stdout: "hi\n" },
  },
  {
    what: "ps --filter name= with the leading /",
    setup: [["create", "--name", "named1", "busybox", "true"]],
    args: ["ps", "-a", "--filter", "name=^/named1$", "--format", "{{.Names}}"],
    expect: { code: 0, stdout: "named1\n" },
  },
  {
    what: "ps --filter name= without the leading /",
    setup: [["create", "--name", "named2", "busybox", "true"]],
    args: ["ps", "-a", "--filter", "name=^named2$", "--format", "{{.Names}}"],
    expect: { code: 0, stdout: "named2\n" },
  },
  {
    what: "wait returns at the first exit of a container with a restart policy",
    setup: [[
      "run",
      "-d",
      "--name",
      "again1",
      "--restart",
      "always",
      "busybox",
      "sh",
      "-c",
      "sleep 1; exit 3",
    ]],
    args: ["wait", "again1"],
    expect: { code: 0, stdout: "3\n" },
  },
  // Commands and format functions scripts use.
  {
    what: "port of a container without ports",
    setup: [["create", "--name", "noport", "busybox"]],
    args: ["port", "noport"],
    expect: { code: 0, stdout: "" },
  },
  {
    what: "export -o of a missing container",
    args: ["export", "-o", "$CFG/x.tar", "nosuch"],
    expect: { code: 1, stdout: "" },
  },
  {
    what: "update of a missing container",
    args: ["update", "--memory", "64m", "nosuch"],
    expect: { code: 1, stdout: "" },
  },
  {
    what: "container prune --filter label=",
    setup: [
      ["create", "--name", "prune1", "--label", "prune=yes", "busybox"],
      ["create", "--name", "prune2", "busybox"],
    ],
    args: ["container", "prune", "-f", "--filter", "label=prune=yes"],
    expect: { code: 0, stdout: "Deleted Containers:\n<id>\n\nTotal reclaimed space: 0B\n" },
  },
  {
    what: "inspect {{.NetworkSettings.IPAddress}} without a network",
    setup: [["create", "--name", "ins1", "busybox"]],
    args: ["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ins1"],
    expect: { code: 0, stdout: "\n" },
  },
  {
    what: "inspect {{json .ExecIDs}} of a container never exec'd",
    args: ["inspect", "-f", "{{json .ExecIDs}}", "ins1"],
    expect: { code: 0, stdout: "null\n" },
  },
  {
    what: "inspect {{.HostConfig.Ulimits}} without --ulimit",
    args: ["inspect", "-f", "{{.HostConfig.Ulimits}}", "ins1"],
    expect: { code: 0, stdout: "[]\n" },
  },
  {
    what: "ps --format {{.Label}}",
    setup: [["create", "--name", "lab1", "--label", "k=v", "busybox"]],
    args: ["ps", "-a", "--filter", "name=lab1", "--format", '{{.Label "k"}}|{{.Label "no"}}'],
    expect: { code: 0, stdout: "v|\n" },
  },
  {
    what: "logs -t: an RFC 3339 time, a space, the line",
    setup: [["run", "--name", "lg1", "busybox", "echo", "hi"]],
    args: ["logs", "-t", "lg1"],
    expect: { code: 0, stdout: "<time> hi\n" },
  },
  {
    what: "exec --env-file",
    env: { C: "from-env" },
    setup: [["run", "-d", "--name", "envf1", "busybox", "sleep", "60"]],
    args: ["exec", "--env-file", ENV_FILE, "envf1", "sh", "-c", 'echo "$A|$B|$C"'],
    expect: { code: 0, stdout: "1|two words|from-env\n" },
  },
  {
    what: "stop --timeout",
    setup: [["run", "-d", "--name", "stop1", "busybox", "sleep", "60"]],
    args: ["stop", "--timeout", "1", "stop1"],
    expect: { code: 0, stdout: "stop1\n" },
  },
  {
    what: "cp -q",
    setup: [["create", "--name", "cp1", "busybox"]],
    args: ["cp", "-q", "cp1:/etc/passwd", "$CFG/passwd"],
    expect: { code: 0, stdout: "" },
  },
  {
    what: "image list",
    args: ["image", "list", "--format", "{{.Repository}}:{{.Tag}}"],
    expect: { code: 0, stdout: "busybox:latest\n" },
  },
  {
    what: "--health-cmd: (health: starting) in ps after start",
    setup: [
      [
        ...["run", "-d", "--name", "health1", "--health-cmd", "true"],
        ...["--health-interval", "30s", "busybox", "sleep", "60"],
      ],
    ],
    // What follows "Up N seconds ": range, since docker's CLI also runs a ps template on an
    // empty row (its Status "": index 1 of the split would fail).
    args: [
      ...["ps", "--filter", "name=health1", "--format"],
      '{{range $i, $p := split .Status " ("}}{{if $i}}{{$p}}{{end}}{{end}}',
    ],
    expect: { code: 0, stdout: "health: starting)\n" },
  },
  {
    what: "run -u UID:GID --group-add",
    args: ["run", "--rm", "-u", "1000:1000", "--group-add", "10", "busybox", "id"],
    expect: { code: 0, stdout: "uid=1000 gid=1000 groups=10,1000\n" },
  },
  // Global options.
  {
    what: "--config DIR's psFormat",
    config: { psFormat: "{{.Names}}:{{.Image}}" },
    setup: [["create", "--name", "fmt1", "busybox", "true"]],
    args: ["--config", "$CFG", "ps", "-a", "--filter", "name=fmt1"],
    expect: { code: 0, stdout: "fmt1:busybox\n" },
  },
  {
    what: "DOCKER_CONFIG's imagesFormat",
    config: { imagesFormat: "{{.Repository}}" },
    env: { DOCKER_CONFIG: "$CFG" },
    args: ["images", "busybox"],
    expect: { code: 0, stdout: "busybox\n" },
  },
  {
    what: "-H naming a daemon that cannot be reached",
    host: "tcp://127.0.0.1:1",
    args: ["ps"],
    expect: { code: 1, stdout: "" },
  },
];

/** IDs, sizes of time and dates masked, so that two engines' outputs compare. */
function normalise(text: string): string {
  return text
    .replace(/\b[0-9a-f]{64}\b/g, "<id>")
    .replace(/\b[0-9a-f]{12}\b/g, "<id>")
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)/g, "<time>");
}

type Engine = (args: string[], env: Record<string, string>, host?: string) => Promise<Run>;

/** Runs the table through `engine`, a case's setup first; returns each case's result. */
async function runTable(engine: Engine, cfgRoot: string): Promise<Run[]> {
  const results: Run[] = [];
  for (const [i, c] of CASES.entries()) {
    const cfg = `${cfgRoot}/${i}`;
    await Deno.mkdir(cfg, { recursive: true });
    if (c.config !== undefined) {
      await Deno.writeTextFile(`${cfg}/config.json`, JSON.stringify(c.config));
    }
    const env = Object.fromEntries(
      Object.entries(c.env ?? {}).map(([k, v]) => [k, v.replaceAll("$CFG", cfg)]),
    );
    for (const step of c.setup ?? []) {
      const out = await engine(withNoNetwork(step), env);
      assert.equal(out.code, 0, `${c.what}: setup ${step.join(" ")}: ${out.stderr}`);
    }
    results.push(
      await engine(withNoNetwork(c.args.map((a) => a.replaceAll("$CFG", cfg))), env, c.host),
    );
  }
  return results;
}

/** `--network none` after run/create, so that neither engine touches the host's network. */
function withNoNetwork(args: string[]): string[] {
  const at = args.findIndex((a) => a === "run" || a === "create");
  return at < 0 ? args : [...args.slice(0, at + 1), "--network", "none", ...args.slice(at + 1)];
}

/** A private dockerd with its networking off, for as long as `fn` runs; its containers removed. */
async function withDockerd(dir: string, fn: (docker: Engine) => Promise<void>): Promise<void> {
  const sock = `${dir}/docker.sock`;
  const daemon = new Deno.Command("dockerd", {
    args: [
      ...["--data-root", `${dir}/data`, "--exec-root", `${dir}/exec`],
      ...["--pidfile", `${dir}/dockerd.pid`, "-H", `unix://${sock}`],
      ...["--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false"],
      ...["--containerd-namespace", "berth-parity"],
      ...["--containerd-plugins-namespace", "berth-parity-plugins"],
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const docker: Engine = async (args, env, host) => {
    const out = await new Deno.Command("docker", {
      args: ["-H", host ?? `unix://${sock}`, ...args],
      env: { DOCKER_CONFIG: `${dir}/docker-config`, ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  try {
    let up = false;
    for (let i = 0; i < 200 && !up; i++) {
      up = (await docker(["version", "--format", "{{.Server.Version}}"], {})).code === 0;
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(up, "the private dockerd answers");
    await fn(docker);
  } finally {
    const ids = (await docker(["ps", "-aq"], {})).stdout.split("\n").filter((l) => l !== "");
    if (ids.length > 0) await docker(["rm", "-f", ...ids], {});
    daemon.kill("SIGTERM");
    await daemon.status;
  }
}

Deno.test("docker parity: exit codes, errors, flag syntax, wait, global --config and -H, the commands and formats scripts use", async () => {
  await withTempDir(async (dir) => {
    const tarball = await makeRootfs(`${dir}/rootfs.tar.gz`);
    const root = `${dir}/root`;
    const b: Engine = (args, env, host) =>
      berth(root, ["--run-root", `${dir}/run`, ...(host ? ["-H", host] : []), ...args], {
        env: { HOME: dir, ...env },
      });
    const imported = await b(["import", "--change", 'CMD ["sh"]', tarball, "busybox"], {});
    assert.equal(imported.code, 0, imported.stderr);
    try {
      const ours = await runTable(b, `${dir}/cfg-berth`);
      const useDocker = have("docker") && have("dockerd") && Deno.uid() === 0;
      let theirs: Run[] | undefined;
      if (useDocker) {
        await withDockerd(`${dir}/docker`, async (docker) => {
          const loaded = await docker(
            ["import", "--change", 'CMD ["sh"]', tarball, "busybox"],
            {},
          );
          assert.equal(loaded.code, 0, loaded.stderr);
          theirs = await runTable(docker, `${dir}/cfg-docker`);
        });
      }
      const wrong: string[] = [];
      for (const [i, c] of CASES.entries()) {
        const got = ours[i]!;
        const want = theirs === undefined
          ? { code: c.expect.code, stdout: c.expect.stdout }
          : { code: theirs[i]!.code, stdout: normalise(theirs[i]!.stdout) };
        const line = `${c.what} (${c.args.join(" ")})`;
        if (got.code !== want.code) {
          wrong.push(`${line}: exit ${got.code}, docker ${want.code}; stderr ${got.stderr.trim()}`);
        } else if (c.expect.stdout !== undefined && normalise(got.stdout) !== want.stdout) {
          wrong.push(`${line}: stdout ${JSON.stringify(got.stdout)}, docker ${want.stdout}`);
        }
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${CASES.length} differ from docker`);
    } finally {
      const ids = (await b(["ps", "-aq", "--no-trunc"], {})).stdout.split("\n").filter((l) =>
        l !== ""
      );
      if (ids.length > 0) await b(["rm", "-f", ...ids], {});
    }
  });
});
