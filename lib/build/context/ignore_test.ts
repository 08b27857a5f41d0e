import assert from "node:assert/strict";
import { InvalidError } from "../../errors.ts";
import { cleanPath, IgnoreMatcher, parseIgnoreFile } from "./ignore.ts";

Deno.test("parseIgnoreFile() drops comments and blanks and cleans each pattern", () => {
  const text = "\uFEFFbuild\n# a comment\n\n  /abs/path  \n./rel//x/\n! /kept/abs\n!\n! \n" +
    "sub/../other\r\n # not a comment\n";
  assert.deepEqual(parseIgnoreFile(text), [
    "build",
    "abs/path",
    "rel/x",
    "!kept/abs",
    "!",
    "!",
    "other",
    "# not a comment",
  ]);
});

Deno.test("cleanPath() cleans like Go's path.Clean", () => {
  assert.equal(cleanPath("a//b/./c/"), "a/b/c");
  assert.equal(cleanPath("a/../../b"), "../b");
  assert.equal(cleanPath("/../x"), "/x");
  assert.equal(cleanPath(""), ".");
  assert.equal(cleanPath("./"), ".");
  assert.equal(cleanPath("/"), "/");
});

/** Pattern, path, whether the path (or one of its parents) is matched. */
const SINGLE: Array<[string, string, boolean]> = [
  ["**", "anything", true],
  ["**", "deep/down/here", true],
  ["**/", "x", true],
  ["**/**", "x/y", true],
  ["lib/**", "lib/a", true],
  ["lib/**", "lib/a/b/c", true],
  ["lib/**", "lib", false],
  ["lib/**", "library", false],
  ["**/cache", "cache", true],
  ["**/cache", "a/b/cache", true],
  ["**/cache", "a/cache/entry", true],
  ["**/cache", "a/mycache", false],
  ["**cache", "a/mycache", true],
  ["**/out/*", "x/out/y", true],
  ["**/out/*", "x/out/y/z", true],
  ["**/out/*", "x/out", false],
  ["**/out/**", "x/out/y/z", true],
  ["**/*.log", "app.log", true],
  ["**/*.log", "a/b/app.log", true],
  ["**/**/*.log", "a/b/app.log", true],
  ["**/*.log", "a/b/app.log.1", false],
  ["**/rel*", "a/b/release", true],
  ["**/rel*se", "a/b/release", true],
  ["**/.env", ".env", true],
  ["**/.env", "prod.env", false],
  ["x**/*.c", "x/m.c", true],
  ["x**/*.c", "x/y/z/m.c", true],
  ["top/*.c", "top/m.c", true],
  ["top/*.c", "top/sub/m.c", false],
  ["top/*.c**", "top/m.c", true],
  ["*", "file", true],
  ["*", "dir/file", true],
  ["*.md", "README.md", true],
  ["*.md", "docs/README.md", false],
  ["docs", "docs/README.md", true],
  ["docs/", "docs/a/b", true],
  ["docs/*", "docs/a/b", true],
  ["q[m-p]r", "qnr", true],
  ["q[m-p]r", "qr", false],
  ["q[^m-p]r", "qar", true],
  [".*", ".git", true],
  [".*", ".git/config", true],
  [".*", "git", false],
  ["v1.2", "v1x2", false],
  ["v1.2", "v1.2", true],
  ["ab?d", "abxd", true],
  ["ab?d", "abd", false],
  ["f(x)|y+{z}$", "f(x)|y+{z}$", true],
  ["f(x)|y+{z}$", "fx", false],
  ["pkg/name-1.0+b2.whl", "pkg/name-1.0+b2.whl", true],
  ["pkg/*.whl", "pkg/name-1.0+b2.whl", true],
  ["back\\\\", "back\\", true],
  ["star\\*", "star*", true],
  ["star\\*", "starx", false],
  ["/rooted", "rooted", true],
  ["./dotted/", "dotted/x", true],
];

Deno.test("IgnoreMatcher.matches() follows Docker's pattern rules for one pattern", () => {
  for (const [pattern, path, want] of SINGLE) {
    const matcher = new IgnoreMatcher(parseIgnoreFile(pattern));
    assert.equal(matcher.matches(path), want, `${pattern} vs ${path}`);
  }
});

Deno.test("IgnoreMatcher.matches() lets the last matching line win", () => {
  const cases: Array<[string[], string, boolean]> = [
    [["*.go", "!main.go"], "main.go", false],
    [["!main.go", "*.go"], "main.go", true],
    [["docs", "!docs/README.md"], "docs/README.md", false],
    [["docs", "!docs/README.md"], "docs/other.md", true],
    [["docs/", "!docs/README.md"], "docs/README.md", false],
    [["docs/*", "!docs/README.md"], "docs/README.md", false],
    [["**", "!keep"], "keep/inner/file", false],
    [["**", "!keep", "keep/inner/file"], "keep/inner/file", true],
    [["**", "!pkg/*.whl"], "pkg/name-1.0+b2.whl", false],
    [["**", "!**/keep.txt"], "deep/dir/keep.txt", false],
    [["**", "!**/keep.txt"], "deep/dir/drop.txt", true],
    [["*.md", "!README*.md", "README-secret.md"], "README-secret.md", true],
    [["*.md", "!README*.md", "README-secret.md"], "README-public.md", false],
    [[], "anything", false],
  ];
  for (const [patterns, path, want] of cases) {
    assert.equal(new IgnoreMatcher(patterns).matches(path), want, `${patterns} vs ${path}`);
  }
});

Deno.test("IgnoreMatcher.match() passes parent results down a walk", () => {
  const matcher = new IgnoreMatcher(["build", "!build/keep"]);
  const dir = matcher.match("build");
  assert.equal(dir.excluded, true);
  assert.equal(matcher.match("build/keep", dir.state).excluded, false);
  assert.equal(matcher.match("build/drop", dir.state).excluded, true);
  assert.equal(matcher.size, 2);
});

Deno.test("IgnoreMatcher.mayReinclude() decides when a walk enters an excluded directory", () => {
  assert.equal(new IgnoreMatcher(["build"]).mayReinclude("build"), false);
  assert.equal(new IgnoreMatcher(["build", "!build/keep"]).mayReinclude("build"), true);
  assert.equal(new IgnoreMatcher(["build", "!build/keep"]).mayReinclude("other"), false);
  assert.equal(new IgnoreMatcher(["a", "!a/b/c"]).mayReinclude("a/b"), true);
  assert.equal(new IgnoreMatcher(["a", "!a/b/*"]).mayReinclude("a/b"), true);
  assert.equal(new IgnoreMatcher(["a", "!abc/d"]).mayReinclude("a"), false);
  assert.equal(new IgnoreMatcher(["a", "!**/keep"]).mayReinclude("a"), true);
  assert.equal(new IgnoreMatcher(["a", "!x/*.txt"]).mayReinclude("a"), true);
});

Deno.test("IgnoreMatcher rejects a lone ! and malformed patterns", () => {
  assert.throws(() => new IgnoreMatcher(["ok", "!"]), (e: unknown) => {
    assert.ok(e instanceof InvalidError);
    assert.equal(e.message, 'illegal exclusion pattern: "!"');
    return true;
  });
  for (const bad of ["[", "a[", "[]x]", "x\\", "[z-a]"]) {
    assert.throws(() => new IgnoreMatcher([bad]), (e: unknown) => {
      assert.ok(e instanceof InvalidError);
      assert.match(e.message, /^syntax error in pattern/);
      return true;
    }, bad);
  }
});
