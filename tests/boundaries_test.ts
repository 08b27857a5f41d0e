/**
 * The layering of DESIGN.md, checked on the real import graph: imports point
 * downward only, nothing outside ffi/ calls Deno.dlopen, nothing outside
 * lib/cli prints.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

/** What each part may import (besides itself, npm: and node: modules). */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  sha256: [],
  digest: ["errors", "sha256"],
  ffi: ["errors"],
  image: ["errors", "digest"],
  archive: ["errors", "digest", "image", "ffi"],
  store: ["errors", "digest", "image", "archive", "ffi"],
  runtime: ["errors", "digest", "ffi"],
  registry: ["errors", "digest", "image", "store", "archive"],
  build: ["errors", "digest", "image", "store", "archive", "runtime", "ffi"],
  volume: ["errors", "digest", "store", "ffi"],
  network: ["errors", "digest", "ffi"],
  engine: [
    "errors",
    "digest",
    "ffi",
    "image",
    "archive",
    "store",
    "runtime",
    "registry",
    "build",
    "volume",
    "network",
  ],
  cli: [
    "errors",
    "digest",
    "ffi",
    "image",
    "archive",
    "store",
    "runtime",
    "registry",
    "build",
    "volume",
    "network",
    "engine",
  ],
  api: ["errors", "digest", "image", "store", "registry", "engine"],
  main: ["cli"],
};

/** The part a file belongs to: `lib/<part>/...`, `lib/<part>.ts`, `ffi/...`, `main.ts`. */
function partOf(path: string): string | undefined {
  const rel = path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
  if (rel === "main.ts") return "main";
  if (rel.startsWith("ffi/")) return "ffi";
  const m = /^lib\/([^/.]+)/.exec(rel);
  return m?.[1];
}

function isTest(path: string): boolean {
  // Test files and the fixtures/contract cases only tests import.
  return /(_test|_test_util|\.case)\.ts$/.test(path) || path.includes("/testdata/") ||
    path.startsWith(`${ROOT}tests/`);
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

interface Graph {
  modules: {
    specifier: string;
    dependencies?: { specifier: string; code?: { specifier: string } }[];
  }[];
}

/** The import graph as Deno resolves it (static and dynamic imports) from the given roots. */
async function importGraph(roots: string[]): Promise<Map<string, string[]>> {
  const edges = new Map<string, string[]>();
  for (const root of roots) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as Graph;
    for (const mod of graph.modules) {
      if (!mod.specifier.startsWith("file://")) continue;
      const from = new URL(mod.specifier).pathname;
      const to = (mod.dependencies ?? [])
        .map((d) => d.code?.specifier)
        .filter((s): s is string => s !== undefined && s.startsWith("file://"))
        .map((s) => new URL(s).pathname);
      edges.set(from, to);
    }
  }
  return edges;
}

Deno.test("imports point downward only, per DESIGN.md's layers", async () => {
  const files = [`${ROOT}main.ts`, ...sourceFiles(`${ROOT}lib`), ...sourceFiles(`${ROOT}ffi`)]
    .filter((f) => !isTest(f));
  // One graph per top-level module keeps `deno info` calls few while reaching every file.
  // Worker scripts are loaded by URL (new Worker), not imported: they are roots of their own.
  const roots = files.filter((f) =>
    f.endsWith("/mod.ts") || f.endsWith("main.ts") || f.endsWith("_worker.ts") ||
    f.startsWith(`${ROOT}ffi/`)
  );
  const graph = await importGraph(roots);
  const violations: string[] = [];
  for (const [from, deps] of graph) {
    if (isTest(from)) continue;
    const part = partOf(from);
    if (part === undefined) continue;
    const allowed = ALLOWED[part];
    assert.ok(
      allowed !== undefined,
      `${from} is in no known layer ("${part}"): add it to DESIGN.md and this test`,
    );
    for (const dep of deps) {
      const target = partOf(dep);
      if (target === undefined || target === part || isTest(dep)) continue;
      if (!allowed.includes(target)) {
        violations.push(`${from.slice(ROOT.length)} -> ${dep.slice(ROOT.length)}`);
      }
    }
  }
  assert.deepEqual(violations, []);
  // Every source file is reachable from some mod.ts, so the check above saw it.
  const unseen = files.filter((f) => !graph.has(f));
  assert.deepEqual(unseen.map((f) => f.slice(ROOT.length)), []);
});

Deno.test("only ffi/ calls Deno.dlopen and only lib/cli writes to the terminal", () => {
  const offenders: string[] = [];
  for (const file of [`${ROOT}main.ts`, ...sourceFiles(`${ROOT}lib`)]) {
    if (isTest(file)) continue;
    // Doc comments may show examples that print; only code counts.
    const text = Deno.readTextFileSync(file).replace(/\/\*[\s\S]*?\*\//g, "").replace(
      /^\s*\/\/.*$/gm,
      "",
    );
    if (/Deno\.dlopen\s*\(/.test(text)) offenders.push(`${file.slice(ROOT.length)}: Deno.dlopen`);
    const printing = /console\.(log|error|warn|info)\s*\(|Deno\.std(out|err)\.write/.test(text);
    if (printing && !file.startsWith(`${ROOT}lib/cli/`)) {
      offenders.push(`${file.slice(ROOT.length)}: prints`);
    }
  }
  assert.deepEqual(offenders, []);
});
