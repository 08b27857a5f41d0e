/**
 * HTTP to one registry: picks the endpoint (mirrors first for reads, then the
 * origin), answers auth challenges and retries once, and turns error
 * responses into typed errors carrying the registry's error code.
 *
 * @module
 */
import { EngineError } from "../../errors.ts";
import { isErrorCode, parseErrorBody, RegistryError } from "../_errors.ts";
import { Authorizer, type CredentialsLookup } from "./auth.ts";
import { type EndpointSettings, type RegistryEndpoints, registryEndpoints } from "./endpoint.ts";

/** Options for {@linkcode Transport}. */
export interface TransportOptions {
  /** Saved credentials by host. @default none (anonymous) */
  credentials?: CredentialsLookup;
  /** Insecure registries and mirrors. */
  settings?: EndpointSettings;
  /** The fetch to use (tests count requests with it). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** PEM CA certificates to trust for this registry (and its token realm). */
  caCerts?: string[];
}

/** One request to a registry. */
export interface RegistryRequest {
  /** @default "GET" */
  method?: string;
  headers?: Record<string, string>;
  /** A byte body, so a retry after an auth challenge can resend it. */
  body?: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;
  /** Token scopes the request needs (`repository:library/busybox:pull`). */
  scopes: readonly string[];
  /** Try mirrors before the origin (reads only). @default false */
  mirrors?: boolean;
  signal?: AbortSignal;
}

/** HTTP plumbing for one registry. */
export class Transport {
  readonly endpoints: RegistryEndpoints;
  readonly authorizer: Authorizer;
  readonly fetch: typeof fetch;

  constructor(domain: string, options: TransportOptions = {}) {
    this.endpoints = registryEndpoints(domain, options.settings);
    const base = options.fetch ?? globalThis.fetch.bind(globalThis);
    if (options.caCerts !== undefined && options.caCerts.length > 0) {
      const client = Deno.createHttpClient({ caCerts: options.caCerts });
      this.fetch = (input, init) => base(input, { ...init, client });
    } else {
      this.fetch = base;
    }
    this.authorizer = new Authorizer(options.credentials ?? (() => undefined), this.fetch);
  }

  /**
   * Sends a request. `target` is a path under the registry (`/v2/...`) or an
   * absolute URL (an upload's `Location`). With `mirrors`, each mirror is
   * tried first and any failure there falls through to the origin.
   * @throws {EngineError} when the registry cannot be reached
   */
  async request(target: string, req: RegistryRequest): Promise<Response> {
    const bases = req.mirrors && !/^https?:/.test(target)
      ? [...this.endpoints.mirrors, this.endpoints.origin]
      : [this.endpoints.origin];
    for (let i = 0; i < bases.length; i++) {
      const url = new URL(target, bases[i]);
      const last = i === bases.length - 1;
      try {
        const res = await this.#send(url, req);
        if (last || res.ok) return res;
        await res.body?.cancel();
      } catch (error) {
        if (last) throw error;
      }
    }
    throw new EngineError("No registry endpoint to try");
  }

  async #send(url: URL, req: RegistryRequest): Promise<Response> {
    for (let attempt = 0;; attempt++) {
      const headers: Record<string, string> = { ...req.headers };
      const auth = this.authorizer.header(url.host, req.scopes);
      if (auth !== undefined) headers.Authorization = auth;
      let res: Response;
      try {
        res = await this.fetch(url, {
          method: req.method ?? "GET",
          headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
          ...(req.signal !== undefined ? { signal: req.signal } : {}),
        });
      } catch (error) {
        if (req.signal?.aborted) throw error;
        throw new EngineError(`Cannot reach registry "${url.host}"`, {
          cause: await blockedPortError(url, error) ?? error,
        });
      }
      const retryable = !(req.body instanceof ReadableStream);
      if (res.status !== 401 || attempt > 0 || !retryable) return res;
      const challenge = res.headers.get("www-authenticate");
      if (!await this.authorizer.answer(url.host, req.scopes, challenge)) return res;
      await res.body?.cancel();
    }
  }
}

/**
 * Deno's fetch will not use the ports the Fetch standard blocks (1, 6000,
 * 6665...) and says so in its own words; the connection error the port gives,
 * found by connecting to it, reads as any other port's.
 */
async function blockedPortError(url: URL, error: unknown): Promise<Error | undefined> {
  if (!(error instanceof TypeError) || !/port \d+ (are|is) blocked/i.test(error.message)) {
    return undefined;
  }
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  let why: string;
  try {
    (await Deno.connect({ hostname: url.hostname.replace(/^\[|\]$/g, ""), port })).close();
    why = `port ${port} is one that Deno's fetch refuses to use`;
  } catch (probe) {
    why = `tcp connect error: ${probe instanceof Error ? probe.message : String(probe)}`;
  }
  return new Error(
    `fetch failed: error sending request for url (${url}): client error (Connect): ${why}`,
  );
}

/** `MANIFEST_UNKNOWN` → `manifest unknown`, as Docker's errcode prints a code. */
function codeWords(code: string): string {
  return code.toLowerCase().replaceAll("_", " ");
}

/**
 * Turns an error response into an error naming the action, the registry's
 * code and its message: `Manifest for "x:y" not found: manifest unknown: ...`.
 * Consumes the body.
 */
export async function responseError(res: Response, what: string): Promise<EngineError> {
  const text = await res.text().catch(() => "");
  const entry = parseErrorBody(text)[0];
  const code = entry?.code ?? (res.status === 401 ? "UNAUTHORIZED" : undefined);
  const detail = entry === undefined
    ? code === undefined ? `${res.status} ${res.statusText}` : codeWords(code)
    : `${codeWords(entry.code)}: ${entry.message}`;
  const message = `${what}: ${detail}`;
  if (code !== undefined && isErrorCode(code)) {
    return new RegistryError(code, message, { status: res.status });
  }
  return new EngineError(message);
}
