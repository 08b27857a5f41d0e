/**
 * Registry authentication as Docker does it: anonymous first; on a 401 the
 * `WWW-Authenticate` challenge says Basic (send the credentials) or Bearer
 * (get a token from the realm for the service and scopes, with the
 * credentials when known, then retry once with it). Tokens are cached per
 * host and scope set.
 *
 * @module
 */
import { EngineError } from "../../errors.ts";
import { RegistryError } from "../_errors.ts";

/** A user name and password, or an identity token, for a registry. */
export interface Credentials {
  username: string;
  password: string;
  /**
   * An OAuth2 refresh token (Docker's `identitytoken`): traded at the realm
   * for an access token with a POST (`grant_type=refresh_token`) instead of
   * sending the password.
   */
  identityToken?: string;
}

/** The user name Docker's credential helpers give with an identity token as the secret. */
export const IDENTITY_TOKEN_USER = "<token>";

/** Looks up the credentials saved for a registry host (a credential helper may take a while). */
export type CredentialsLookup = (
  host: string,
) => Credentials | undefined | Promise<Credentials | undefined>;

/** One parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (the first challenge). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (m === null) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (const p of m[2]!.matchAll(re)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3] ?? "";
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

/** `Basic base64(user:pass)`. */
export function basicHeader(creds: Credentials): string {
  const bytes = new TextEncoder().encode(`${creds.username}:${creds.password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** Holds what a client learned about authenticating to each host. */
export class Authorizer {
  #lookup: CredentialsLookup;
  #fetch: typeof fetch;
  /** Authorization header by `host scope` (Bearer) or `host` (Basic). */
  #headers = new Map<string, string>();

  constructor(lookup: CredentialsLookup, fetchFn: typeof fetch = fetch) {
    this.#lookup = lookup;
    this.#fetch = fetchFn;
  }

  /** The Authorization header to send, if one is known. */
  header(host: string, scopes: readonly string[]): string | undefined {
    return this.#headers.get(`${host} ${scopes.join(" ")}`) ?? this.#headers.get(host);
  }

  /**
   * Answers a 401 challenge: remembers Basic credentials or fetches a token.
   * @returns true when a retry may now succeed
   * @throws {RegistryError} `UNAUTHORIZED` when the token server refuses the credentials
   */
  async answer(host: string, scopes: readonly string[], header: string | null): Promise<boolean> {
    const challenge = header === null ? undefined : parseChallenge(header);
    if (challenge === undefined) return false;
    const creds = await this.#lookup(host);
    if (challenge.scheme === "basic") {
      if (creds === undefined || this.#headers.get(host) === basicHeader(creds)) return false;
      this.#headers.set(host, basicHeader(creds));
      return true;
    }
    if (challenge.scheme !== "bearer" || challenge.params.realm === undefined) return false;
    const token = await this.#token(challenge.params, scopes, creds);
    const key = `${host} ${scopes.join(" ")}`;
    const value = `Bearer ${token}`;
    if (this.#headers.get(key) === value) return false;
    this.#headers.set(key, value);
    return true;
  }

  async #token(
    params: Record<string, string>,
    scopes: readonly string[],
    creds: Credentials | undefined,
  ): Promise<string> {
    const url = new URL(params.realm!);
    if (params.service !== undefined) url.searchParams.set("service", params.service);
    const wanted = scopes.length > 0 ? scopes : params.scope?.split(" ") ?? [];
    for (const scope of wanted) url.searchParams.append("scope", scope);
    const headers: Record<string, string> = {};
    let init: RequestInit = { headers };
    if (creds?.identityToken !== undefined) {
      // The distribution spec's OAuth2 flow: the refresh token goes in a form POST.
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: creds.identityToken,
        client_id: "berth",
      });
      if (params.service !== undefined) form.set("service", params.service);
      if (wanted.length > 0) form.set("scope", wanted.join(" "));
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      init = { method: "POST", headers, body: form.toString() };
      url.search = "";
    } else if (creds !== undefined) {
      headers.Authorization = basicHeader(creds);
      url.searchParams.set("account", creds.username);
    }
    let res: Response;
    try {
      res = await this.#fetch(url, init);
    } catch (error) {
      throw new EngineError(`Cannot get a token from "${url.origin}${url.pathname}"`, {
        cause: error,
      });
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError("UNAUTHORIZED", `Unauthorized: incorrect username or password`);
    }
    if (!res.ok) {
      throw new EngineError(
        `Cannot get a token from "${url.origin}${url.pathname}": ${res.status}`,
      );
    }
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new EngineError("Token server sent malformed JSON", { cause: error });
    }
    const token = typeof body.token === "string" ? body.token : body.access_token;
    if (typeof token !== "string" || token === "") {
      throw new EngineError("Token server sent no token");
    }
    return token;
  }
}
