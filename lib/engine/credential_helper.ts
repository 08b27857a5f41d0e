/**
 * Docker's credential helpers (`credsStore` and `credHelpers` in
 * config.json): `docker-credential-<name> get` reads the server on stdin and
 * prints `{"ServerURL","Username","Secret"}`, or fails when it has nothing.
 * See https://github.com/docker/docker-credential-helpers.
 *
 * @module
 */
import { EngineError } from "../errors.ts";
import { type Credentials, IDENTITY_TOKEN_USER } from "../registry/client/mod.ts";

/**
 * Asks `docker-credential-<helper>` for the credentials of `server`.
 * @returns undefined when the helper has none for it
 * @throws {EngineError} when the helper cannot run or answers nonsense
 */
export async function helperCredentials(
  helper: string,
  server: string,
): Promise<Credentials | undefined> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(`docker-credential-${helper}`, {
      args: ["get"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new EngineError(`Cannot run credential helper "docker-credential-${helper}"`, {
      cause: error,
    });
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(server)).catch(() => {});
  await writer.close().catch(() => {});
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout).trim();
  // Helpers say "credentials not found in native keychain" and exit 1 when they have none.
  if (!out.success) return undefined;
  try {
    const body = JSON.parse(text) as { Username?: unknown; Secret?: unknown };
    if (typeof body.Username !== "string" || typeof body.Secret !== "string") throw new Error();
    // Docker's convention: the user "<token>" means the secret is an identity token.
    if (body.Username === IDENTITY_TOKEN_USER) {
      return { username: body.Username, password: "", identityToken: body.Secret };
    }
    return { username: body.Username, password: body.Secret };
  } catch (error) {
    throw new EngineError(`Credential helper "docker-credential-${helper}" answered nonsense`, {
      cause: error,
    });
  }
}
