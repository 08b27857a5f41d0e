/**
 * Where a registry is reached: Docker Hub's `docker.io` is served by
 * `registry-1.docker.io`; loopback hosts and registries listed as insecure
 * speak plain HTTP (unless a CA certificate is configured for them);
 * everything else HTTPS. Mirrors (for any registry, not only
 * Docker Hub as in Docker) are tried before the origin for reads.
 *
 * @module
 */

/** The host Docker Hub's registry API is served from. */
export const DOCKER_HUB_HOST = "registry-1.docker.io";

/** How to reach one registry. */
export interface RegistryEndpoints {
  /** The registry's name as references spell it (`docker.io`, `localhost:5000`). */
  domain: string;
  /** Base URL of the registry itself, without `/v2`. */
  origin: string;
  /** Base URLs tried first for pulls, in order. */
  mirrors: string[];
}

/** Settings that change how a registry is reached. */
export interface EndpointSettings {
  /** `host[:port]` names served over plain HTTP. */
  insecure?: readonly string[];
  /** Mirror base URLs by registry domain (`docker.io` → `["http://127.0.0.1:5001"]`). */
  mirrors?: Readonly<Record<string, readonly string[]>>;
  /**
   * `host[:port]` names with their own CA certificates (Docker's `certs.d`):
   * reached over HTTPS even on loopback, since a CA says TLS is meant.
   */
  tls?: readonly string[];
}

/** True for `localhost`, `127.0.0.0/8` and `::1`, with or without a port. */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostPort.startsWith("[")
    ? hostPort.slice(1, hostPort.indexOf("]"))
    : hostPort.replace(/:\d+$/, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Resolves the URLs of a registry.
 * @param domain a reference's domain (`docker.io`, `127.0.0.1:5000`)
 * @param settings insecure registries and mirrors
 */
export function registryEndpoints(
  domain: string,
  settings: EndpointSettings = {},
): RegistryEndpoints {
  const host = domain === "docker.io" || domain === "index.docker.io" ? DOCKER_HUB_HOST : domain;
  const named = (list: readonly string[] | undefined) =>
    (list ?? []).some((name) => name === domain || name === host);
  const insecure = !named(settings.tls) && (isLoopbackHost(host) || named(settings.insecure));
  const mirrors = (settings.mirrors?.[domain] ?? []).map((url) => url.replace(/\/+$/, ""));
  return { domain, origin: `${insecure ? "http" : "https"}://${host}`, mirrors };
}
