import assert from "node:assert/strict";
import { InvalidError } from "../../errors.ts";
import { expandHeredoc, expandWord, expandWords } from "./expand.ts";

const vars = new Map([["A", "a b"], ["EMPTY", ""], ["X", "x"]]);

Deno.test("expandWord() substitutes $VAR and ${VAR}, unset ones as empty", () => {
  assert.equal(expandWord("$X", vars), "x");
  assert.equal(expandWord("${X}y", vars), "xy");
  assert.equal(expandWord("$Xy", vars), "");
  assert.equal(expandWord("pre-$UNSET-post", vars), "pre--post");
  assert.equal(expandWord("$", vars), "$");
  assert.equal(expandWord("a$", vars), "a$");
  assert.equal(expandWord("$1x", vars), "x");
});

Deno.test("expandWord() applies :- :+ - + :? ? like the shell", () => {
  assert.equal(expandWord("${UNSET:-def}", vars), "def");
  assert.equal(expandWord("${EMPTY:-def}", vars), "def");
  assert.equal(expandWord("${X:-def}", vars), "x");
  assert.equal(expandWord("${EMPTY-def}", vars), "");
  assert.equal(expandWord("${UNSET-def}", vars), "def");
  assert.equal(expandWord("${X:+alt}", vars), "alt");
  assert.equal(expandWord("${EMPTY:+alt}", vars), "");
  assert.equal(expandWord("${EMPTY+alt}", vars), "alt");
  assert.equal(expandWord("${UNSET+alt}", vars), "");
  assert.equal(expandWord("${UNSET:-${X}z}", vars), "xz");
  assert.equal(expandWord("${X:?must}", vars), "x");
  assert.throws(
    () => expandWord("${UNSET:?must be set}", vars),
    /^InvalidError: UNSET: must be set$/,
  );
  assert.throws(() => expandWord("${UNSET?}", vars), /UNSET: is not allowed to be unset/);
});

Deno.test("expandWord() removes quotes, keeps single-quoted text literal, honours escapes", () => {
  assert.equal(expandWord('"$A"', vars), "a b");
  assert.equal(expandWord("'$A'", vars), "$A");
  assert.equal(expandWord("\\$A", vars), "$A");
  assert.equal(expandWord('"a\\"b"', vars), 'a"b');
  assert.equal(expandWord('"a\\nb"', vars), "a\\nb");
  assert.equal(expandWord("a\\ b", vars), "a b");
  assert.equal(expandWord("`$X", vars, { escape: "`" }), "$X");
  assert.equal(expandWord("C:\\dir", vars, { escape: "`" }), "C:\\dir");
});

Deno.test("expandWord() keeps what rawQuotes/rawEscapes/skipUnset ask to keep", () => {
  assert.equal(expandWord(`"$X" '$X'`, vars, { rawQuotes: true }), `"x" '$X'`);
  assert.equal(expandWord("\\$X", vars, { rawEscapes: true }), "\\$X");
  assert.equal(
    expandWord("$NOPE ${NOPE} ${NOPE:-d}", vars, { skipUnset: true }),
    "$NOPE ${NOPE} ${NOPE:-d}",
  );
});

Deno.test("expandWords() splits unquoted expansions into words but not quoted ones", () => {
  assert.deepEqual(expandWords("$A", vars), ["a", "b"]);
  assert.deepEqual(expandWords('"$A" c', vars), ["a b", "c"]);
  assert.deepEqual(expandWords("80 $EMPTY 443", vars), ["80", "443"]);
  assert.deepEqual(expandWords('""', vars), [""]);
});

Deno.test("expandWord() rejects bad substitutions and open quotes with the shell lexer's words", () => {
  const cases: [string, string][] = [
    ["${X", "syntax error: missing '}'"],
    ["${}", "syntax error: bad substitution"],
    ["${:-a}", "syntax error: bad substitution"],
    ["${X%%}", "unsupported modifier (%) in substitution"],
    ["${X:=a}", "unsupported modifier (=) in substitution"],
    ['"abc', "unexpected end of statement while looking for matching double-quote"],
    ["'abc", "unexpected end of statement while looking for matching single-quote"],
  ];
  for (const [word, message] of cases) {
    assert.throws(
      () => expandWord(word, vars),
      (e) => e instanceof InvalidError && e.message === message,
      word,
    );
  }
});

Deno.test("expandHeredoc() expands as sh does an unquoted heredoc: quotes are text, few escapes", () => {
  assert.equal(expandHeredoc('say "$X" \\$X \\\\ \\n\n', vars), 'say "x" $X \\ \\n\n');
  assert.equal(expandHeredoc("it's '$X' ${X:-d}\n", vars), "it's 'x' x\n");
});
