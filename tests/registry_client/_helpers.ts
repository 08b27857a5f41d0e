/**
 * Helpers for the registry client tests: berth's own registry served in this
 * process on 127.0.0.1 (every request recorded, an optional wrapper for auth
 * or faults), busybox images made with `berth import`, and berth runs with a
 * private config directory.
 *
 * @module
 */
import {
  createRegistryHandler,
  FsStorage,
  type RegistryHandlerOptions,
} from "../../lib/registry/mod.ts";
import { berth, makeRootfs, type Run } from "../_helpers.ts";

/** One request a test server saw. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Headers;
}

/** A registry (or fake) running in the test process. */
export interface TestServer {
  url: string;
  /** `HOST:PORT` (`127.0.0.1:PORT`), as image names spell it. */
  host: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Serves `handler` on a free port of `hostname` (127.0.0.1), recording every request. */
export function serve(
  handler: (req: Request) => Promise<Response> | Response,
  hostname = "127.0.0.1",
): TestServer {
  const requests: SeenRequest[] = [];
  const server = Deno.serve({ hostname, port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    requests.push({ method: req.method, path: url.pathname + url.search, headers: req.headers });
    return handler(req);
  });
  const port = server.addr.port;
  return {
    url: `http://${hostname}:${port}`,
    host: `${hostname}:${port}`,
    port,
    requests,
    close: () => server.shutdown(),
  };
}

/** Options for {@linkcode startRegistry}. */
export interface RegistryOptions extends Partial<RegistryHandlerOptions> {
  /** Sees each request before the registry (auth challenges, faults). */
  wrap?: (req: Request, next: (req: Request) => Promise<Response>) => Promise<Response>;
  /** The address to listen on. @default "127.0.0.1" */
  hostname?: string;
}

/** berth's registry over `dir`, served in this process. */
export function startRegistry(dir: string, options: RegistryOptions = {}): TestServer {
  const handler = createRegistryHandler({ storage: new FsStorage(dir), ...options });
  return serve(
    (req) => options.wrap ? options.wrap(req, handler) : handler(req),
    options.hostname,
  );
}

/** Requests that send blob data or open uploads (POST/PATCH/PUT under `/blobs/uploads/`). */
export function blobWrites(requests: readonly SeenRequest[]): SeenRequest[] {
  return requests.filter((r) =>
    ["POST", "PATCH", "PUT"].includes(r.method) && r.path.includes("/blobs/uploads/")
  );
}

/** GETs of blobs (downloads). */
export function blobReads(requests: readonly SeenRequest[]): SeenRequest[] {
  return requests.filter((r) => r.method === "GET" && /\/blobs\/sha256:/.test(r.path));
}

/** A busybox rootfs tarball, made once per path. */
export async function rootfs(dir: string, gzip = true): Promise<string> {
  const path = `${dir}/rootfs.tar${gzip ? ".gz" : ""}`;
  try {
    await Deno.stat(path);
    return path;
  } catch {
    return await makeRootfs(path);
  }
}

/** Runs berth with a private config directory (`BERTH_CONFIG`). */
export function b(
  root: string,
  args: string[],
  config: string,
  options: { stdin?: Uint8Array; env?: Record<string, string> } = {},
): Promise<Run> {
  return berth(root, args, { ...options, env: { BERTH_CONFIG: config, ...options.env } });
}

/** Imports a busybox rootfs as `name` into `root`; returns the image ID. */
export async function importBusybox(
  root: string,
  name: string,
  tmp: string,
  gzip = true,
): Promise<string> {
  const out = await berth(root, ["import", await rootfs(tmp, gzip), name]);
  if (out.code !== 0) throw new Error(`import failed: ${out.stderr}`);
  return out.stdout.trim();
}

/** Asserts a run succeeded, with its output in the message when it did not. */
export function ok(out: Run): Run {
  if (out.code !== 0) {
    throw new Error(`berth exited ${out.code}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`);
  }
  return out;
}

/** The image's inspect JSON. */
export async function inspect(root: string, name: string): Promise<Record<string, unknown>> {
  const out = ok(await berth(root, ["image", "inspect", name]));
  return (JSON.parse(out.stdout) as Record<string, unknown>[])[0]!;
}
