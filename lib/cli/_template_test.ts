import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import {
  formatTable,
  parseFormat,
  printValue,
  renderHeader,
  renderTemplate,
  tabwrite,
} from "./_template.ts";

const DATA = {
  ID: "sha256:abc",
  Name: "web",
  Config: { Env: ["A=1", "B=2"], Labels: { z: "last", a: "first" }, Cmd: null },
  Ports: [] as string[],
  Size: 1234,
  Ratio: 0.5,
  Running: true,
  Count: 3,
};
const render = (template: string, data: unknown = DATA) => renderTemplate(template, data);

function assertTemplateError(template: string, message: string, data: unknown = DATA): void {
  assert.throws(() => render(template, data), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.exitCode, 125);
    assert.equal(error.message, `Template parsing error: ${message}`);
    return true;
  });
}

Deno.test("renderTemplate() prints fields and nested fields", () => {
  assert.equal(render("id={{.ID}} name={{ .Name }}"), "id=sha256:abc name=web");
  assert.equal(render("{{.Config.Labels.a}}"), "first");
  assert.equal(render("{{.}}", "plain"), "plain");
  assert.equal(render("no actions\n"), "no actions\n");
});

Deno.test("renderTemplate() prints values as Go's %v does", () => {
  assert.equal(render("{{.Config.Env}}"), "[A=1 B=2]");
  assert.equal(render("{{.Config.Labels}}"), "map[a:first z:last]");
  assert.equal(render("{{.Config.Cmd}}"), "<nil>");
  assert.equal(render("{{.Size}} {{.Ratio}} {{.Running}} {{.Ports}}"), "1234 0.5 true []");
  assert.equal(printValue({ m: { k: [1, null] } }), "map[m:map[k:[1 <nil>]]]");
  assert.equal(printValue(new Map([["b", 2], ["a", 1]])), "map[a:1 b:2]");
  assert.equal(printValue(1e21), "1e+21");
});

Deno.test("renderTemplate() applies json, join, index, lower, upper, title, println", () => {
  assert.equal(render("{{json .Config.Env}}"), `["A=1","B=2"]`);
  assert.equal(render("{{json .}}", { a: "<&>", b: null }), `{"a":"<&>","b":null}`);
  assert.equal(render("{{.Config.Env | json}}"), `["A=1","B=2"]`);
  assert.equal(render(`{{join .Config.Env ", "}}`), "A=1, B=2");
  assert.equal(render(`{{index .Config.Labels "z"}}`), "last");
  assert.equal(render(`{{index .Config.Labels "missing"}}|{{index .Config.Env 1}}`), "|B=2");
  assert.equal(
    render(`{{lower "AbC"}} {{upper .Name}} {{title "hello big world"}}`),
    "abc WEB Hello Big World",
  );
  assert.equal(render(`{{println .Name}}x`), "web\nx");
  assert.equal(
    render(`{{split "a:b" ":"}} {{pad "x" 1 2}}| {{truncate .ID 6}}`),
    "[a b]  x  | sha256",
  );
});

Deno.test("renderTemplate() runs range over lists and maps, with else, break and continue", () => {
  assert.equal(render("{{range .Config.Env}}[{{.}}]{{end}}"), "[A=1][B=2]");
  assert.equal(render("{{range $i, $e := .Config.Env}}{{$i}}:{{$e}} {{end}}"), "0:A=1 1:B=2 ");
  assert.equal(
    render("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}"),
    "a=first;z=last;",
  );
  assert.equal(render("{{range .Ports}}x{{else}}none{{end}}"), "none");
  assert.equal(render("{{range .Config.Cmd}}x{{else}}nil{{end}}"), "nil");
  const list = { L: ["a", "b", "c", "d"] };
  assert.equal(
    render(
      `{{range .L}}{{if eq . "b"}}{{continue}}{{end}}{{if eq . "d"}}{{break}}{{end}}{{.}}{{end}}`,
      list,
    ),
    "ac",
  );
  assert.equal(render("{{range .L}}{{$.Name}}{{end}}", { ...list, Name: "n" }), "nnnn");
  assert.equal(render("{{range 3}}{{.}}{{end}}"), "012");
  assertTemplateError(
    "{{range .Name}}{{end}}",
    `template: :1:8: executing "" at <.Name>: range can't iterate over web`,
  );
});

Deno.test("renderTemplate() branches with if, else if, else and with", () => {
  assert.equal(render("{{if .Running}}up{{else}}down{{end}}"), "up");
  assert.equal(render("{{if .Ports}}p{{else if .Config.Cmd}}c{{else}}none{{end}}"), "none");
  assert.equal(render("{{if not .Ports}}empty{{end}}"), "empty");
  assert.equal(render("{{with .Config}}{{.Env}}{{end}}"), "[A=1 B=2]");
  assert.equal(render("{{with .Config.Cmd}}x{{else}}no cmd{{end}}"), "no cmd");
  assert.equal(render("{{if and .Running (gt .Count 2)}}yes{{end}}"), "yes");
  assert.equal(render(`{{or .Ports "fallback"}} {{and .Running .Name}}`), "fallback web");
});

Deno.test("renderTemplate() handles pipelines, parentheses, variables and comparisons", () => {
  assert.equal(render(`{{.Name | upper | printf "%s!"}}`), "WEB!");
  assert.equal(render(`{{(index .Config.Env 0) | lower}}`), "a=1");
  assert.equal(render(`{{$n := .Name}}{{$n}}{{$n = "x"}}{{$n}}`), "webx");
  assert.equal(render(`{{len .Config.Env}} {{len .Name}} {{slice .ID 0 6}}`), "2 3 sha256");
  assert.equal(
    render(`{{eq .Name "db" "web"}} {{ne .Count 3}} {{lt 1 2}} {{ge "b" "a"}}`),
    "true false true true",
  );
  assert.equal(
    render(`{{printf "%-6s|%5.2f|%03d|%q|%.3s|%x" "ab" 3.14159 7 "q" "abcdef" 255}}`),
    `ab    | 3.14|007|"q"|abc|ff`,
  );
  assert.equal(render(`{{print 1 2 "a" "b" 3}}`), "1 2ab3");
  assert.equal(render(`{{"tab\\there"}} {{'a'}} {{\`raw\\n\`}}`), "tab\there 97 raw\\n");
});

Deno.test("renderTemplate() trims whitespace around {{- and -}} and drops comments", () => {
  assert.equal(render("a \n\t{{- .Name -}} \n b"), "awebb");
  assert.equal(render("{{- /* a comment */ -}}\n{{.Name}}"), "web");
  assert.equal(render("{{/* c */}}x"), "x");
  assert.equal(render("{{-3}}"), "-3");
});

Deno.test("renderTemplate() calls function-valued fields as methods", () => {
  const context = {
    labels: { app: "api" },
    Label(this: { labels: Record<string, string> }, key: string) {
      return this.labels[key] ?? "";
    },
    Names: () => "web,db",
  };
  assert.equal(render(`{{.Label "app"}}|{{.Names}}|{{.Label "none"}}`, context), "api|web,db|");
  class Ctx {
    ID(): string {
      return "abc";
    }
  }
  assert.equal(render("{{.ID}}", new Ctx()), "abc");
  assertTemplateError(
    "{{.toString}}",
    `template: :1:2: executing "" at <.toString>: map has no entry for key "toString"`,
  );
});

Deno.test("renderTemplate() reports a missing key as Go does with missingkey=error", () => {
  assertTemplateError(
    "{{.Nope}}",
    `template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"`,
  );
  assertTemplateError(
    "x\n  {{.Config.Nope}}",
    `template: :2:4: executing "" at <.Config.Nope>: map has no entry for key "Nope"`,
  );
  assertTemplateError(
    "{{.Config.Cmd.X}}",
    `template: :1:2: executing "" at <.Config.Cmd.X>: nil pointer evaluating interface {}.X`,
  );
  assertTemplateError(
    "{{.Name.X}}",
    `template: :1:2: executing "" at <.Name.X>: can't evaluate field X in type string`,
  );
  assertTemplateError(
    "{{upper .Size}}",
    `template: :1:2: executing "" at <upper>: wrong type for value; expected string; got float64`,
  );
  assert.equal(renderTemplate("{{.Nope}}", DATA, { missingKey: "default" }), "<no value>");
});

Deno.test("renderTemplate() reports parse errors with the line", () => {
  assertTemplateError("{{nope .}}", `template: :1: function "nope" not defined`);
  assertTemplateError("{{if .Running}}x", "template: :1: unexpected EOF");
  assertTemplateError("a\n{{.Name", "template: :2: unclosed action");
  assertTemplateError("{{end}}", "template: :1: unexpected {{end}}");
  assertTemplateError("{{}}", "template: :1: missing value for command");
  assertTemplateError("{{break}}", "template: :1: {{break}} outside {{range}}");
  assertTemplateError("{{.Name #}}", `template: :1: unexpected "#" in command`);
  assertTemplateError(
    `{{upper "a" "b"}}`,
    `template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 2`,
  );
});

Deno.test("parseFormat() splits the table prefix and unescapes \\t and \\n as Docker does", () => {
  assert.deepEqual(parseFormat("table {{.ID}}\\t{{.Name}}"), {
    table: true,
    template: "{{.ID}}\t{{.Name}}",
  });
  assert.deepEqual(parseFormat("{{.ID}}\\n"), { table: false, template: "{{.ID}}\n" });
  assert.deepEqual(parseFormat("  {{.ID}} "), { table: false, template: "{{.ID}}" });
  assert.deepEqual(parseFormat("json"), { table: false, template: "{{json .}}" });
  assert.deepEqual(parseFormat("table"), { table: true, template: "" });
});

Deno.test("renderHeader() renders the row template with column titles", () => {
  const headers = { ID: "IMAGE ID", Repository: "REPOSITORY" };
  assert.equal(renderHeader("{{.Repository}}\t{{.ID}}", headers), "REPOSITORY\tIMAGE ID");
  assert.equal(
    renderHeader(`{{.Label "x"}}|{{.Nope.Deeper}}|{{.ID | lower}}`, headers),
    "||image id",
  );
});

Deno.test("tabwrite() aligns columns like Go's tabwriter with Docker's settings", () => {
  const text = "REPOSITORY\tTAG\tIMAGE ID\tSIZE\n" +
    "busybox\tlatest\tbeae173ccac6\t1.24MB\n" +
    "a-very-long-repository\t1.36\tdeadbeef0000\t4.26MB\n";
  assert.equal(
    tabwrite(text),
    "REPOSITORY               TAG       IMAGE ID       SIZE\n" +
      "busybox                  latest    beae173ccac6   1.24MB\n" +
      "a-very-long-repository   1.36      deadbeef0000   4.26MB\n",
  );
});

Deno.test("tabwrite() ends a column block at a line without that cell", () => {
  assert.equal(
    tabwrite("a\tb\nno tabs here\nlonger-cell\tc\n"),
    "a         b\nno tabs here\nlonger-cell   c\n",
  );
  assert.equal(tabwrite("x\t\ty\n"), "x                   y\n");
  assert.equal(tabwrite("é\tb", { minWidth: 0, padding: 1 }), "é b");
});

Deno.test("formatTable() joins cells with tabs and pads all but the last column", () => {
  assert.equal(
    formatTable([["CONTAINER ID", "NAMES"], ["abc", "web"]]),
    "CONTAINER ID   NAMES\nabc            web\n",
  );
  assert.equal(formatTable([["A", "B"]], { minWidth: 0, padding: 1 }), "A B\n");
});
