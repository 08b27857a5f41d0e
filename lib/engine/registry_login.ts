/**
 * `berth login`: check credentials against a registry's `/v2/` (through its
 * Basic or Bearer challenge) before they are saved.
 *
 * @module
 */
import { type Credentials, RegistryError } from "../registry/mod.ts";
import type { RegistryConfig } from "./auth_config.ts";

/**
 * Verifies `creds` against `server` and saves them in berth's config.json.
 * @param server a registry (`localhost:5000`, `docker.io`, `https://host/`)
 * @throws {RegistryError} `UNAUTHORIZED` when the registry refuses them
 */
export async function loginRegistry(
  config: RegistryConfig,
  server: string,
  creds: Credentials,
  options: { fetch?: typeof fetch } = {},
): Promise<void> {
  const host = server.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
  const domain = host === "index.docker.io" ? "docker.io" : host;
  try {
    await config.client(domain, { ...options, credentials: creds }).ping();
  } catch (error) {
    if (!(error instanceof RegistryError) || error.code !== "UNAUTHORIZED") throw error;
    throw new RegistryError(
      "UNAUTHORIZED",
      `Cannot log in to "${domain}": unauthorized: incorrect username or password`,
      { status: 401 },
    );
  }
  config.saveAuth(server, creds);
}
