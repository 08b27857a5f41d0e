/**
 * `berth version`: the Client and Server blocks as `docker version` prints
 * them, `--format` over the same data as Docker's (`{{.Server.Version}}`,
 * `{{json .}}`). berth is both client and engine, so both carry its version;
 * the Go version fields carry the Deno version that runs berth.
 *
 * @module
 */
import { INSPECT_FLAGS } from "./_format.ts";
import { type Command, str } from "./_command.ts";
import { VERSION } from "./mod.ts";

/** The Docker Engine API version berth's inspect and events shapes follow. */
export const API_VERSION = "1.47";
const MIN_API_VERSION = "1.24";

/** Go's GOARCH name for Deno's architecture. */
export function goArch(arch: string = Deno.build.arch): string {
  return arch === "x86_64" ? "amd64" : arch === "aarch64" ? "arm64" : arch;
}

/** What `version --format` sees: Docker's `types.Version` shape for Client and Server. */
export function versionData(): Record<string, unknown> {
  const goVersion = `deno${Deno.version.deno}`;
  const os = Deno.build.os;
  const arch = goArch();
  const kernel = Deno.osRelease();
  return {
    Client: {
      Platform: { Name: "berth" },
      Version: VERSION,
      ApiVersion: API_VERSION,
      DefaultAPIVersion: API_VERSION,
      GoVersion: goVersion,
      Os: os,
      Arch: arch,
      Context: "default",
    },
    Server: {
      Platform: { Name: "berth" },
      Components: [{
        Name: "Engine",
        Version: VERSION,
        Details: {
          ApiVersion: API_VERSION,
          MinAPIVersion: MIN_API_VERSION,
          GoVersion: goVersion,
          Os: os,
          Arch: arch,
          KernelVersion: kernel,
          Experimental: "false",
        },
      }],
      Version: VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GoVersion: goVersion,
      Os: os,
      Arch: arch,
      KernelVersion: kernel,
    },
  };
}

/** `version [OPTIONS]` */
export const version: Command = {
  usage: "[OPTIONS]",
  summary: "Show the berth version information",
  args: { max: 0 },
  flags: INSPECT_FLAGS,
  async run(ctx, flags) {
    const data = versionData();
    const format = str(flags, "format");
    if (format !== undefined && format !== "") {
      const { parseFormat, renderTemplate } = await import("./_template.ts");
      ctx.print(`${renderTemplate(parseFormat(format).template, data)}\n`);
      return 0;
    }
    const c = data.Client as Record<string, string>;
    const s = data.Server as Record<string, string>;
    const row = (indent: string, label: string, value: string) =>
      `${indent}${`${label}:`.padEnd(20 - indent.length)}${value}\n`;
    ctx.print(
      "Client:\n" +
        row(" ", "Version", c.Version!) +
        row(" ", "API version", c.ApiVersion!) +
        row(" ", "Deno version", c.GoVersion!) +
        row(" ", "OS/Arch", `${c.Os}/${c.Arch}`) +
        row(" ", "Context", c.Context!) +
        "\n" +
        "Server: berth\n" +
        " Engine:\n" +
        row("  ", "Version", s.Version!) +
        row("  ", "API version", `${s.ApiVersion} (minimum version ${s.MinAPIVersion})`) +
        row("  ", "Deno version", s.GoVersion!) +
        row("  ", "OS/Arch", `${s.Os}/${s.Arch}`) +
        row("  ", "Experimental", "false"),
    );
    return 0;
  },
};
