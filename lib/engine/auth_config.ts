/**
 * Registry settings from a Docker-compatible `config.json`: saved
 * credentials (`{"auths":{"host:port":{"auth":"base64(user:pass)"}}}`),
 * `insecure-registries` and `registry-mirrors` (by registry, for any
 * registry), Docker's credential helpers (`credHelpers`, `credsStore`; read
 * only: `login` writes `auths`); CA certificates from
 * `certs.d/<host:port>/*.crt` beside it. berth's file is
 * `$BERTH_CONFIG/config.json` (default `~/.berth/config.json`);
 * `~/.docker/config.json` is read as a fallback and never written.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";
// The client alone: the registry server (and its bcrypt code) stays out of every command's graph.
import {
  type Credentials,
  type EndpointSettings,
  IDENTITY_TOKEN_USER,
  RegistryClient,
} from "../registry/client/mod.ts";
import { helperCredentials } from "./credential_helper.ts";

/** The key Docker uses for Docker Hub in `auths`. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  "insecure-registries"?: string[];
  credsStore?: string;
  credHelpers?: Record<string, string>;
  /** By registry; a plain list (dockerd's daemon.json form) mirrors docker.io. */
  "registry-mirrors"?: Record<string, string[]> | string[];
  [key: string]: unknown;
}

/**
 * The `auths` key of a registry: Docker Hub's index URL for `docker.io`,
 * else `host[:port]` without scheme or path.
 */
export function authKey(server: string): string {
  const host = server.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
  return ["docker.io", "index.docker.io", "registry-1.docker.io"].includes(host)
    ? DOCKER_HUB_AUTH_KEY
    : host;
}

/** The default directory of berth's `config.json`. */
export function defaultConfigDir(): string {
  const dir = Deno.env.get("BERTH_CONFIG");
  if (dir !== undefined && dir !== "") return dir;
  return `${Deno.env.get("HOME") ?? "/root"}/.berth`;
}

function readConfig(path: string): ConfigFile {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error();
    return value as ConfigFile;
  } catch (error) {
    throw new InvalidError(`Invalid config file "${path}"`, { cause: error });
  }
}

function decodeAuth(entry: AuthEntry | undefined): Credentials | undefined {
  if (entry === undefined) return undefined;
  if (entry.identitytoken !== undefined && entry.identitytoken !== "") {
    // Docker keeps the user name in `auth` beside an identity token, with no password.
    const user = entry.auth ? decodeAuth({ auth: entry.auth })?.username : entry.username;
    return {
      username: user ?? IDENTITY_TOKEN_USER,
      password: "",
      identityToken: entry.identitytoken,
    };
  }
  if (entry.auth !== undefined && entry.auth !== "") {
    const text = new TextDecoder().decode(
      Uint8Array.from(atob(entry.auth), (c) => c.charCodeAt(0)),
    );
    const colon = text.indexOf(":");
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/**
 * An insecure registry as dockerd takes it: `host[:port]`, tolerating a
 * scheme and a trailing slash (`http://10.0.0.5:5000/` -> `10.0.0.5:5000`).
 */
function insecureName(value: string): string {
  return value.trim().replace(/^[a-z]+:\/\//i, "").replace(/\/+$/, "");
}

/** berth's registry settings, read once. */
export class RegistryConfig {
  readonly path: string;
  #file: ConfigFile;
  #fallback: ConfigFile;
  #envInsecure: string[];
  #looked = new Map<string, Promise<Credentials | undefined>>();

  private constructor(path: string, file: ConfigFile, fallback: ConfigFile, insecure: string[]) {
    this.path = path;
    this.#file = file;
    this.#fallback = fallback;
    this.#envInsecure = insecure;
  }

  /**
   * Reads `<dir>/config.json` and `~/.docker/config.json`, and the insecure
   * registries of `BERTH_INSECURE_REGISTRIES` (comma-separated); `insecure`
   * (the `--insecure-registry` flags) adds to those and the file's.
   * @throws {InvalidError} when a file is not a JSON object
   */
  static load(dir = defaultConfigDir(), insecure: readonly string[] = []): RegistryConfig {
    const path = `${dir}/config.json`;
    const dockerPath = `${Deno.env.get("HOME") ?? "/root"}/.docker/config.json`;
    const fallback = dockerPath === path ? {} : readConfig(dockerPath);
    const fromEnv = (Deno.env.get("BERTH_INSECURE_REGISTRIES") ?? "").split(",");
    const names = [...insecure, ...fromEnv].map(insecureName).filter((s) => s !== "");
    return new RegistryConfig(path, readConfig(path), fallback, names);
  }

  /**
   * Saved credentials for a registry host: berth's file, then Docker's; in
   * each, `auths`, else its credential helper (`credHelpers`, `credsStore`).
   */
  credentials(host: string): Promise<Credentials | undefined> {
    // Once per host: a helper is a process, and every new token scope asks again.
    let found = this.#looked.get(host);
    if (found === undefined) this.#looked.set(host, found = this.#lookup(host));
    return found;
  }

  async #lookup(host: string): Promise<Credentials | undefined> {
    const key = authKey(host);
    for (const file of [this.#file, this.#fallback]) {
      const saved = decodeAuth(file.auths?.[key]);
      if (saved !== undefined) return saved;
      const helper = file.credHelpers?.[key] ?? file.credHelpers?.[host] ?? file.credsStore;
      if (helper !== undefined && helper !== "") {
        const found = await helperCredentials(helper, key);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }

  /** Insecure registries and mirrors, for the registry client. */
  settings(): EndpointSettings {
    const insecure = [...this.#envInsecure, ...(this.#file["insecure-registries"] ?? [])];
    const given = this.#file["registry-mirrors"];
    const mirrors = Array.isArray(given) ? { "docker.io": given } : given;
    return { insecure, ...(mirrors !== undefined ? { mirrors } : {}) };
  }

  /**
   * CA certificates for a registry, as Docker and podman keep them:
   * `<config dir>/certs.d/<host:port>/*.crt`, then `/etc/docker/certs.d` and
   * `/etc/containers/certs.d`.
   */
  caCerts(domain: string): string[] {
    const dir = this.path.slice(0, this.path.lastIndexOf("/"));
    const roots = [`${dir}/certs.d`, "/etc/docker/certs.d", "/etc/containers/certs.d"];
    for (const root of roots) {
      let names: string[];
      try {
        names = [...Deno.readDirSync(`${root}/${domain}`)].map((e) => e.name);
      } catch {
        continue;
      }
      const certs = names.filter((n) => n.endsWith(".crt")).sort()
        .map((n) => Deno.readTextFileSync(`${root}/${domain}/${n}`));
      if (certs.length > 0) return certs;
    }
    return [];
  }

  /**
   * A registry client with these settings and the saved credentials.
   * @param options `credentials` to use instead of the saved ones (login), `fetch`
   */
  client(
    domain: string,
    options: { credentials?: Credentials; fetch?: typeof fetch } = {},
  ): RegistryClient {
    const caCerts = this.caCerts(domain);
    const settings = this.settings();
    const given = options.credentials;
    return new RegistryClient(domain, {
      credentials: (host) => given ?? this.credentials(host),
      settings: caCerts.length > 0 ? { ...settings, tls: [domain] } : settings,
      ...(caCerts.length > 0 ? { caCerts } : {}),
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    });
  }

  /** Saves credentials for `server` (atomically, mode 0600). */
  saveAuth(server: string, creds: Credentials): void {
    const auth = btoa(String.fromCharCode(
      ...new TextEncoder().encode(`${creds.username}:${creds.password}`),
    ));
    this.#file.auths = { ...this.#file.auths, [authKey(server)]: { auth } };
    this.#looked.clear();
    this.#write();
  }

  /**
   * Removes the credentials of `server`.
   * @returns false when berth's file had none
   */
  removeAuth(server: string): boolean {
    const key = authKey(server);
    if (this.#file.auths?.[key] === undefined) return false;
    delete this.#file.auths[key];
    this.#looked.clear();
    this.#write();
    return true;
  }

  #write(): void {
    const dir = this.path.slice(0, this.path.lastIndexOf("/"));
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${Deno.pid}.tmp`;
    try {
      const file = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
      try {
        const bytes = new TextEncoder().encode(JSON.stringify(this.#file, null, "\t") + "\n");
        for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
        file.syncDataSync();
      } finally {
        file.close();
      }
      Deno.chmodSync(tmp, 0o600);
      Deno.renameSync(tmp, this.path);
    } catch (error) {
      try {
        Deno.removeSync(tmp);
      } catch {
        // not created
      }
      throw error;
    }
  }
}
