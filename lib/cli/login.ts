/**
 * `berth login [OPTIONS] [SERVER]`: check credentials against a registry and
 * save them in berth's config.json (Docker's format, mode 0600).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { DOCKER_HUB_AUTH_KEY, loginRegistry, RegistryConfig } from "../engine/mod.ts";
import { bool, type Command, type Context, str } from "./_command.ts";

async function readStdin(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.replace(/\r?\n$/, "");
}

/** Reads a line from the terminal; without echo for passwords. */
function promptLine(ctx: Context, label: string, echo: boolean): string {
  ctx.print(label);
  if (!echo) Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  try {
    for (;;) {
      const n = Deno.stdin.readSync(buf);
      if (n === null || n === 0 || buf[0] === 0x0a || buf[0] === 0x0d) break;
      if (buf[0] === 0x03) throw new UsageError("Login cancelled");
      if (buf[0] === 0x7f) bytes.pop();
      else bytes.push(buf[0]!);
    }
  } finally {
    if (!echo) {
      Deno.stdin.setRaw(false);
      ctx.print("\n");
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes)).trim();
}

/** `login [OPTIONS] [SERVER]` */
export const login: Command = {
  usage: "[OPTIONS] [SERVER]",
  summary: "Log in to a registry",
  args: { max: 1 },
  flags: [
    { name: "username", short: "u", type: "string", value: "string", description: "Username" },
    { name: "password", short: "p", type: "string", value: "string", description: "Password" },
    { name: "password-stdin", type: "bool", description: "Take the password from stdin" },
  ],
  async run(ctx, flags, args) {
    const server = args[0] ?? DOCKER_HUB_AUTH_KEY;
    let username = str(flags, "username");
    let password = str(flags, "password");
    if (bool(flags, "password-stdin")) {
      if (password !== undefined) {
        throw new UsageError("--password and --password-stdin are mutually exclusive");
      }
      if (username === undefined) {
        throw new UsageError("Must provide --username with --password-stdin");
      }
      password = await readStdin();
    } else if (password !== undefined) {
      ctx.printErr("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    }
    if (username === undefined || password === undefined) {
      if (!ctx.stdinIsTerminal) {
        throw new UsageError("Cannot perform an interactive login from a non TTY device");
      }
      username ??= promptLine(ctx, "Username: ", true);
      password ??= promptLine(ctx, "Password: ", false);
    }
    if (username === "") throw new UsageError("Username is required");
    if (password === "") throw new UsageError("Password is required");
    const config = RegistryConfig.load(undefined, ctx.insecureRegistries);
    await loginRegistry(config, server, { username, password });
    ctx.printErr(`WARNING! Your password will be stored unencrypted in ${config.path}.\n`);
    ctx.print("Login Succeeded\n");
    return 0;
  },
};
