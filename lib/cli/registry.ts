/**
 * `berth registry serve` and `berth registry gc`: the built-in OCI registry.
 *
 * @module
 */
import { loadNativeSha256 } from "../digest.ts";
import { UsageError } from "../errors.ts";
import {
  collectGarbage,
  FsStorage,
  Htpasswd,
  type RegistryServer,
  type RequestLog,
  serveRegistry,
} from "../registry/mod.ts";
import { bool, type Command, type Context, int, str } from "./_command.ts";

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces). */
function parseAddr(addr: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) {
    throw new UsageError(`Invalid address "${addr}": expected HOST:PORT`);
  }
  return { hostname: m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]!), port };
}

/** True for addresses only this host can reach. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
}

/** Parses a byte size with an optional unit (`512M`, `10G`). */
function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(value.trim());
  if (m === null) {
    throw new UsageError(`Invalid size "${value}": expected a number of bytes such as 512M or 10G`);
  }
  const power = " kmgt".indexOf(m[2]!.toLowerCase() || " ");
  return Math.floor(Number(m[1]) * 1024 ** power);
}

function storageDir(ctx: Context, flags: Parameters<Command["run"]>[1]): string {
  const dir = str(flags, "storage") ?? `${ctx.root}/registry`;
  return dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
}

function describe(entry: RequestLog): string {
  const user = entry.user === undefined ? "" : ` user=${entry.user}`;
  return `${entry.method} ${entry.path} ${entry.status} ${entry.durationMs.toFixed(1)}ms${user}`;
}

/** Grace period for requests in flight after SIGINT/SIGTERM (a second signal ends it). */
const STOP_GRACE_MS = 10_000;

/**
 * Waits for SIGINT/SIGTERM, then shuts the server down: requests in flight may
 * finish within the grace period; a second signal stops waiting at once.
 */
async function untilStopped(server: RegistryServer): Promise<void> {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const { promise: forced, resolve: force } = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let signalled = false;
  const onSignal = () => {
    if (signalled) return force();
    signalled = true;
    timer = setTimeout(force, STOP_GRACE_MS);
    void server.shutdown();
  };
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    await Promise.race([server.finished, forced]);
  } finally {
    clearTimeout(timer);
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

/** `berth registry serve`. */
export const registryServe: Command = {
  usage: "[OPTIONS]",
  summary: "Run an OCI distribution registry",
  args: { max: 0 },
  flags: [
    {
      name: "addr",
      type: "string",
      value: "HOST:PORT",
      description: "Address to listen on",
      default: "127.0.0.1:5000",
    },
    {
      name: "storage",
      type: "string",
      value: "DIR",
      description: "Storage directory (default <root>/registry)",
    },
    {
      name: "htpasswd",
      type: "string",
      value: "FILE",
      description: "Require basic auth against this htpasswd file (bcrypt)",
    },
    { name: "tls-cert", type: "string", value: "FILE", description: "TLS certificate (PEM)" },
    { name: "tls-key", type: "string", value: "FILE", description: "TLS private key (PEM)" },
    {
      name: "max-blob-size",
      type: "string",
      value: "SIZE",
      description: "Refuse blobs larger than this (e.g. 10G)",
    },
    {
      name: "max-uploads",
      type: "int",
      value: "N",
      description: "Blob uploads streaming at once; more get 429 (default unlimited)",
    },
    { name: "debug", type: "bool", description: "Log every request to stderr" },
  ],
  async run(ctx, flags) {
    const { hostname, port } = parseAddr(str(flags, "addr") ?? "127.0.0.1:5000");
    const certFile = str(flags, "tls-cert");
    const keyFile = str(flags, "tls-key");
    if ((certFile === undefined) !== (keyFile === undefined)) {
      throw new UsageError("--tls-cert and --tls-key go together");
    }
    const htpasswdFile = str(flags, "htpasswd");
    const maxBlob = str(flags, "max-blob-size");
    const maxUploads = int(flags, "max-uploads");
    if (maxUploads !== undefined && maxUploads < 1) {
      throw new UsageError("--max-uploads must be at least 1");
    }
    const debug = bool(flags, "debug") || ctx.debug;
    // Uploads are hashed as they stream in.
    await loadNativeSha256();
    const server = serveRegistry({
      storage: new FsStorage(storageDir(ctx, flags)),
      hostname,
      port,
      ...(certFile !== undefined && keyFile !== undefined
        ? { cert: await Deno.readTextFile(certFile), key: await Deno.readTextFile(keyFile) }
        : {}),
      ...(htpasswdFile === undefined
        ? {}
        : { authenticate: (await Htpasswd.load(htpasswdFile)).authenticator() }),
      ...(maxBlob === undefined ? {} : { maxBlobSize: parseSize(maxBlob) }),
      ...(maxUploads === undefined ? {} : { maxConcurrentUploads: maxUploads }),
      log: (entry) => {
        if (debug) ctx.printErr(`${describe(entry)}\n`);
        if (entry.error !== undefined) {
          ctx.printErr(`Error: ${describe(entry)}: ${String(entry.error)}\n`);
        }
      },
      onBackgroundError: (error) => ctx.printErr(`Error: expiring uploads: ${String(error)}\n`),
    });
    ctx.print(`Listening on ${server.url}\n`);
    if (htpasswdFile === undefined && !isLoopback(hostname)) {
      ctx.printErr(
        `Warning: anyone who can reach ${hostname} may push and delete (no --htpasswd)\n`,
      );
    }
    await untilStopped(server);
    return 0;
  },
};

/** `berth registry gc`. */
export const registryGc: Command = {
  usage: "[OPTIONS]",
  summary: "Remove blobs no manifest references from a registry's storage",
  args: { max: 0 },
  flags: [
    {
      name: "storage",
      type: "string",
      value: "DIR",
      description: "Storage directory (default <root>/registry)",
    },
    { name: "dry-run", type: "bool", description: "Print what would be removed, remove nothing" },
    { name: "delete-untagged", type: "bool", description: "Also remove manifests no tag reaches" },
  ],
  async run(ctx, flags) {
    const dryRun = bool(flags, "dry-run");
    const report = await collectGarbage(new FsStorage(storageDir(ctx, flags)), {
      dryRun,
      deleteUntagged: bool(flags, "delete-untagged"),
    });
    const verb = dryRun ? "Would remove" : "Removed";
    for (const m of report.manifests) ctx.print(`${verb} manifest ${m.repo}@${m.digest}\n`);
    for (const b of report.blobs) ctx.print(`${verb} blob ${b.digest} (${b.size} bytes)\n`);
    for (const id of report.uploads) ctx.print(`${verb} upload ${id}\n`);
    for (const repo of report.repositories) ctx.print(`${verb} repository ${repo}\n`);
    ctx.print(
      `${verb} ${report.blobs.length} blobs (${report.freedBytes} bytes), ${report.manifests.length} manifests\n`,
    );
    return 0;
  },
};
