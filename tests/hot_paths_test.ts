/**
 * The commands that start, list and supervise containers load no `node:` and
 * no `npm:` module: the first one costs ~20 ms of Node-compat start per
 * process (and the monitor's memory), paid on every `run`. Hashing, tar and
 * registry code load with a dynamic import() where a command needs them.
 * The read-only commands load only the engine's read side: no runtime,
 * monitor, registry or template module (each module costs start time).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

/** Commands on the container start path, the exit handler's and init's modes, and `images`/`inspect`. */
const HOT_COMMANDS = [
  "run",
  "create",
  "start",
  "stop",
  "kill",
  "rm",
  "ps",
  "images",
  "inspect",
  "exec",
  "logs",
  "wait",
  "container __exited",
  "runtime __init",
];

interface Graph {
  roots: string[];
  modules: {
    specifier: string;
    dependencies?: { isDynamic?: boolean; code?: { specifier: string } }[];
  }[];
}

/** Every module `entry` loads before any of its code runs: static imports only. */
async function staticGraph(entry: string): Promise<Map<string, string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as Graph;
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  // module -> the module that imported it first, to name the chain in a failure
  const parent = new Map<string, string>([[graph.roots[0]!, ""]]);
  const queue = [graph.roots[0]!];
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const dep of modules.get(from)?.dependencies ?? []) {
      const to = dep.code?.specifier;
      if (dep.isDynamic || to === undefined || parent.has(to)) continue;
      parent.set(to, from);
      queue.push(to);
    }
  }
  return parent;
}

/** The node:/npm: modules of a graph, each with the import chain that reaches it. */
function nodeModules(graph: Map<string, string>): string[] {
  const found: string[] = [];
  for (const specifier of graph.keys()) {
    if (!/^(node|npm):/.test(specifier)) continue;
    const chain = [];
    for (let s = specifier; s !== ""; s = graph.get(s) ?? "") {
      chain.push(s.replace(`file://${ROOT}`, ""));
    }
    found.push(chain.join(" <- "));
  }
  return found;
}

/** The module `lib/cli/_table.ts` loads for a command. */
function commandModule(table: string, name: string): string {
  const m = new RegExp(`"${name}": lazy\\([^]*?import\\("\\./([a-z_]+\\.ts)"\\)`).exec(table);
  assert.ok(m !== null, `"${name}" is not in lib/cli/_table.ts`);
  return `lib/cli/${m[1]}`;
}

Deno.test("the container commands, the monitor and init load no node: or npm: module", async () => {
  const table = Deno.readTextFileSync(`${ROOT}lib/cli/_table.ts`);
  const entries = new Set([
    "main.ts",
    // What `deno run` starts a container's init with (a compiled berth runs `runtime __init`).
    "lib/runtime/init_main.ts",
    ...HOT_COMMANDS.map((name) => commandModule(table, name)),
  ]);
  const offenders: string[] = [];
  for (const entry of entries) offenders.push(...nodeModules(await staticGraph(entry)));
  assert.deepEqual(offenders, []);
});

Deno.test("the graph walk above finds a node: or npm: module where one is imported", async () => {
  // The tar code imports npm:tar-stream: if this finds nothing, the check above proves nothing.
  const found = nodeModules(await staticGraph("lib/archive/mod.ts"));
  assert.ok(found.some((chain) => chain.startsWith("npm:tar-stream")), found.join("\n"));
});

/** Commands that only read state, and what their static graphs must not hold. */
const READ_ONLY_COMMANDS = [
  "ps",
  "images",
  "inspect",
  "container inspect",
  "image inspect",
  "logs",
];
const NOT_FOR_READING = [
  /^ffi\//,
  /^lib\/runtime\//,
  /^lib\/registry\//,
  /^lib\/archive\//,
  /^lib\/engine\/containers\.ts$/,
  /^lib\/engine\/container_(create|monitor|supervise|attach|exec|conmon)\.ts$/,
  /^lib\/cli\/_template\.ts$/,
];

/** The modules of a graph that match `patterns`, each with the import chain that reaches it. */
function matching(graph: Map<string, string>, patterns: RegExp[]): string[] {
  const found: string[] = [];
  for (const specifier of graph.keys()) {
    const rel = specifier.replace(`file://${ROOT}`, "");
    if (!patterns.some((p) => p.test(rel))) continue;
    const chain = [];
    for (let s = specifier; s !== ""; s = graph.get(s) ?? "") {
      chain.push(s.replace(`file://${ROOT}`, ""));
    }
    found.push(chain.join(" <- "));
  }
  return found;
}

Deno.test("ps, images and inspect load no runtime, monitor, registry or template module", async () => {
  const table = Deno.readTextFileSync(`${ROOT}lib/cli/_table.ts`);
  const entries = new Set(READ_ONLY_COMMANDS.map((name) => commandModule(table, name)));
  const offenders: string[] = [];
  for (const entry of entries) {
    offenders.push(...matching(await staticGraph(entry), NOT_FOR_READING));
  }
  assert.deepEqual(offenders, []);
});

Deno.test("main.ts loads only the command table before a command runs (`--version`)", async () => {
  const graph = await staticGraph("main.ts");
  const loaded = [...graph.keys()].map((s) => s.replace(`file://${ROOT}`, "")).sort();
  assert.deepEqual(loaded, [
    "lib/cli/_args.ts",
    "lib/cli/_command.ts",
    "lib/cli/_table.ts",
    "lib/cli/mod.ts",
    "lib/errors.ts",
    "main.ts",
  ]);
});

Deno.test("the read-only check above finds a runtime module where one is imported", async () => {
  // `run` starts containers: if this finds nothing, the check above proves nothing.
  const found = matching(await staticGraph("lib/cli/run.ts"), NOT_FOR_READING);
  assert.ok(found.some((chain) => chain.startsWith("lib/runtime/")), found.join("\n"));
});
