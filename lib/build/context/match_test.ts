import assert from "node:assert/strict";
import { InvalidError, NotFoundError } from "../../errors.ts";
import { type BuildContext, openDirContext } from "./context.ts";
import { lookup, resolveCopy } from "./match.ts";
import { makeDir, type Spec } from "./_test_util.ts";

const SPEC: Spec = {
  "a.txt": "A",
  "b.txt": "B",
  "c.md": "C",
  "dir/x": "X",
  "dir/sub/y": "Y",
  "dir/ln": { link: "x" },
  "other/a.txt": "OA",
  "linkdir": { link: "dir" },
  "abs": { link: "/a.txt" },
  "escape": { link: "../../../a.txt" },
  "dangling": { link: "nowhere" },
  "[lit]": "L",
};

async function withContext(fn: (context: BuildContext) => void): Promise<void> {
  const root = await makeDir(SPEC);
  try {
    fn(await openDirContext(root));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function plan(context: BuildContext, sources: string[], dest: string, workdir?: string) {
  const items = resolveCopy(context, sources, dest, workdir === undefined ? {} : { workdir });
  return items.map((i) => `${i.entry.path} -> ${i.dest}`);
}

function rejects(fn: () => unknown, cls: typeof InvalidError, message: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

Deno.test("resolveCopy() places files by Docker's destination rules", () =>
  withContext((context) => {
    assert.deepEqual(plan(context, ["a.txt"], "/out"), ["a.txt -> /out"]);
    assert.deepEqual(plan(context, ["a.txt"], "/out/"), ["a.txt -> /out/a.txt"]);
    assert.deepEqual(plan(context, ["/a.txt"], "."), ["a.txt -> /a.txt"]);
    assert.deepEqual(plan(context, ["./a.txt"], "rel", "/app"), ["a.txt -> /app/rel"]);
    assert.deepEqual(plan(context, ["a.txt"], "./", "/app"), ["a.txt -> /app/a.txt"]);
    assert.deepEqual(plan(context, ["a.txt", "c.md"], "/d/"), [
      "a.txt -> /d/a.txt",
      "c.md -> /d/c.md",
    ]);
    const items = resolveCopy(context, ["a.txt"], "/etc", { isDirectory: (p) => p === "/etc" });
    assert.deepEqual(items.map((i) => i.dest), ["/etc/a.txt"]);
  }));

Deno.test("resolveCopy() copies a directory's contents, keeping symlinks inside it", () =>
  withContext((context) => {
    assert.deepEqual(plan(context, ["dir"], "/dst"), [
      "dir/ln -> /dst/ln",
      "dir/sub -> /dst/sub",
      "dir/sub/y -> /dst/sub/y",
      "dir/x -> /dst/x",
    ]);
    assert.equal(resolveCopy(context, ["dir"], "/dst")[0]!.entry.type, "symlink");
    const all = plan(context, ["."], "/");
    assert.ok(all.includes("dir/sub/y -> /dir/sub/y"));
    assert.ok(all.includes("linkdir -> /linkdir"));
    assert.equal(all.length, context.entries().length);
  }));

Deno.test("resolveCopy() follows symlinks in a source inside the context only", () =>
  withContext((context) => {
    assert.deepEqual(plan(context, ["linkdir/x"], "/f"), ["dir/x -> /f"]);
    assert.deepEqual(plan(context, ["linkdir"], "/d"), plan(context, ["dir"], "/d"));
    assert.deepEqual(plan(context, ["abs"], "/f"), ["a.txt -> /f"]);
    assert.deepEqual(plan(context, ["escape"], "/f"), ["a.txt -> /f"]);
    assert.equal(lookup(context, "abs", false)!.type, "symlink");
    rejects(
      () => resolveCopy(context, ["dangling"], "/f"),
      NotFoundError,
      'failed to compute cache key: "/dangling": not found',
    );
  }));

Deno.test("resolveCopy() matches wildcards per path segment as Go's filepath.Match", () =>
  withContext((context) => {
    assert.deepEqual(plan(context, ["*.txt"], "/d/"), ["a.txt -> /d/a.txt", "b.txt -> /d/b.txt"]);
    assert.deepEqual(plan(context, ["?.md"], "/d/"), ["c.md -> /d/c.md"]);
    assert.deepEqual(plan(context, ["[a-b].txt"], "/d/"), [
      "a.txt -> /d/a.txt",
      "b.txt -> /d/b.txt",
    ]);
    assert.deepEqual(plan(context, ["*/a.txt"], "/d/"), ["other/a.txt -> /d/a.txt"]);
    assert.deepEqual(plan(context, ["dir/s*"], "/d/"), ["dir/sub/y -> /d/y"]);
    // Several matches make the destination a directory even without a slash.
    assert.deepEqual(plan(context, ["*.txt"], "/d"), ["a.txt -> /d/a.txt", "b.txt -> /d/b.txt"]);
    assert.deepEqual(plan(context, ["c.*"], "/one"), ["c.md -> /one"]);
    // A path without wildcards is taken literally; a class matches a bracket.
    assert.deepEqual(plan(context, ["[[]lit]"], "/l"), ["[lit] -> /l"]);
    assert.throws(() => resolveCopy(context, ["\\[lit]"], "/l"), NotFoundError);
    assert.deepEqual(plan(context, ["link*/x"], "/x"), ["dir/x -> /x"]);
  }));

Deno.test("resolveCopy() reports Docker's errors for bad sources", () =>
  withContext((context) => {
    rejects(
      () => resolveCopy(context, ["../x"], "/"),
      InvalidError,
      "COPY failed: forbidden path outside the build context: ../x ()",
    );
    rejects(
      () => resolveCopy(context, ["dir/../../x"], "/", { instruction: "ADD" }),
      InvalidError,
      "ADD failed: forbidden path outside the build context: dir/../../x ()",
    );
    rejects(
      () => resolveCopy(context, ["*.none"], "/"),
      InvalidError,
      "COPY failed: no source files were specified",
    );
    rejects(
      () => resolveCopy(context, ["missing.txt"], "/"),
      NotFoundError,
      'failed to compute cache key: "/missing.txt": not found',
    );
    rejects(
      () => resolveCopy(context, ["a.txt/x"], "/"),
      NotFoundError,
      'failed to compute cache key: "/a.txt/x": not found',
    );
    rejects(
      () => resolveCopy(context, ["a.txt", "b.txt"], "/d"),
      InvalidError,
      "When using COPY with more than one source file, the destination must be a directory and end with a /",
    );
    // "/../x" is rooted at the context, so it stays inside.
    rejects(
      () => resolveCopy(context, ["/../x"], "/"),
      NotFoundError,
      'failed to compute cache key: "/x": not found',
    );
  }));

Deno.test("lookup() stops symlink loops", async () => {
  const root = await makeDir({ "l1": { link: "l2" }, "l2": { link: "l1" } });
  try {
    const context = await openDirContext(root);
    assert.throws(() => lookup(context, "l1", true), /too many levels of symbolic links/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
