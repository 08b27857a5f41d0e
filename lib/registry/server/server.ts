/**
 * Runs a registry on `Deno.serve`: plain HTTP or TLS, with stale upload
 * sessions expired in the background.
 *
 * @module
 */
import { createRegistryHandler, type RegistryHandlerOptions } from "./handler.ts";

/** Options for {@linkcode serveRegistry}. */
export interface ServeRegistryOptions extends RegistryHandlerOptions {
  /** Address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** Port to listen on; 0 picks a free one. @default 5000 */
  port?: number;
  /** PEM certificate chain; with `key`, serves HTTPS. */
  cert?: string;
  /** PEM private key for `cert`. */
  key?: string;
  /** Upload sessions idle this long are removed. @default 3600000 (1 h) */
  uploadTtlMs?: number;
  /** Receives failures of the background upload expiry. */
  onBackgroundError?: (error: unknown) => void;
}

/** A running registry. */
export interface RegistryServer {
  /** Base URL, e.g. `http://127.0.0.1:5000`. */
  url: string;
  /** The address listened on. */
  hostname: string;
  /** The port listened on (the real one when 0 was asked). */
  port: number;
  /** Stops accepting connections, lets requests in flight end, stops background work. */
  shutdown(): Promise<void>;
  /** Settles when the server has stopped. */
  finished: Promise<void>;
}

/**
 * Starts a registry server.
 * @throws Deno's errors when the address is in use or the certificate is unusable
 */
export function serveRegistry(options: ServeRegistryOptions): RegistryServer {
  const handler = createRegistryHandler(options);
  const hostname = options.hostname ?? "127.0.0.1";
  const tls = options.cert !== undefined && options.key !== undefined;
  const server = Deno.serve({
    hostname,
    port: options.port ?? 5000,
    ...(tls ? { cert: options.cert!, key: options.key! } : {}),
    onListen: () => {},
  }, handler);
  const ttl = options.uploadTtlMs ?? 3600_000;
  let expiring: Promise<unknown> = Promise.resolve();
  const expire = () => {
    expiring = expiring.then(() => options.storage.expireUploads(new Date(Date.now() - ttl)))
      .catch((error) => options.onBackgroundError?.(error));
  };
  expire();
  const timer = setInterval(expire, Math.min(ttl, 600_000));
  const port = server.addr.port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  let stopped: Promise<void> | undefined;
  return {
    url: `${tls ? "https" : "http"}://${host}:${port}`,
    hostname,
    port,
    finished: server.finished,
    shutdown() {
      stopped ??= (async () => {
        clearInterval(timer);
        await server.shutdown();
        await expiring;
      })();
      return stopped;
    },
  };
}
