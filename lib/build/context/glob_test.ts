import assert from "node:assert/strict";
import { InvalidError } from "../../errors.ts";
import { hasWildcards, matchGlob, parseGlob } from "./glob.ts";

Deno.test("matchGlob() follows Go's filepath.Match for stars, ? and classes", () => {
  const cases: Array<[string, string, boolean]> = [
    ["notes.md", "notes.md", true],
    ["notes.md", "notes.mdx", false],
    ["*", "anything.txt", true],
    ["*", ".hidden", true],
    ["*", "dir/file", false],
    ["*.txt", "a.txt", true],
    ["*.txt", "a.txt.bak", false],
    ["x*", "x", true],
    ["x*/y", "xyz/y", true],
    ["x*/y", "x/z/y", false],
    ["p*q*r*/s", "pAqBrC/s", true],
    ["p*q*r*/s", "pAqB/rC/s", false],
    ["m*n?o*z", "mnnnoozznpoqz", true],
    ["m*n?o*z", "mnnnoozznpoqy", false],
    ["ab?", "abc", true],
    ["ab?", "ab", false],
    ["a?c", "a/c", false],
    ["a*c", "a/c", false],
    ["v[xyz]", "vy", true],
    ["v[x-z]", "vw", false],
    ["v[^x-z]", "vw", true],
    ["v[^x-z]", "vx", false],
    ["v[^q]w", "v\u263aw", true],
    ["v?w", "v\u263aw", true],
    ["v??w", "v\u263aw", false],
    ["[\u03b1-\u03c9]*", "\u03b2eta", true],
    ["*[\u03b1-\u03c9]", "B", false],
    ["q\\*r", "q*r", true],
    ["q\\*r", "qxr", false],
    ["[\\]q]", "]", true],
    ["[\\-]", "-", true],
    ["[k\\-]", "-", true],
    ["[k\\-]", "j", false],
    ["[z-a]", "m", false],
    ["*y", "yyy", true],
    ["[*]", "*", true],
  ];
  for (const [pattern, name, want] of cases) {
    assert.equal(matchGlob(pattern, name), want, `${pattern} vs ${name}`);
  }
});

Deno.test("matchGlob() throws a syntax error for malformed patterns, whatever the name", () => {
  for (const pattern of ["[", "[^", "[^xy", "q[", "[]q]", "[-]", "[q-]", "[-q]", "\\", "[a-b-c]"]) {
    for (const name of ["", "q", "-", "]"]) {
      assert.throws(() => matchGlob(pattern, name), (e: unknown) => {
        assert.ok(e instanceof InvalidError);
        assert.equal(e.message, "syntax error in pattern");
        return true;
      }, pattern);
    }
  }
});

Deno.test("parseGlob() marks escaped characters", () => {
  assert.deepEqual(parseGlob("a\\?"), [
    { kind: "char", char: "a" },
    { kind: "char", char: "?", escaped: true },
  ]);
});

Deno.test("hasWildcards() sees unescaped *, ? and [ only", () => {
  assert.equal(hasWildcards("src/*.ts"), true);
  assert.equal(hasWildcards("file?.txt"), true);
  assert.equal(hasWildcards("[ab].txt"), true);
  assert.equal(hasWildcards("plain/path.txt"), false);
  assert.equal(hasWildcards("lit\\*.txt"), false);
});
