/**
 * Helpers for the registry server tests: a server on 127.0.0.1 over a temp
 * directory, pushes by fetch, and raw HTTP for what fetch cannot send.
 *
 * @module
 */
import { type Digest, sha256 } from "../../lib/digest.ts";
import {
  FsStorage,
  type RegistryServer,
  serveRegistry,
  type ServeRegistryOptions,
} from "../../lib/registry/mod.ts";

/** A running test registry and its storage directory. */
export interface TestRegistry {
  server: RegistryServer;
  url: string;
  dir: string;
  storage: FsStorage;
  /** Shuts the server down and removes the directory. */
  close(): Promise<void>;
}

/** Starts a registry on a free port of 127.0.0.1 over a fresh temp directory. */
export async function startRegistry(
  options: Partial<ServeRegistryOptions> = {},
): Promise<TestRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "berth-registry-" });
  const storage = new FsStorage(`${dir}/storage`);
  const server = serveRegistry({ storage, hostname: "127.0.0.1", port: 0, ...options });
  return {
    server,
    url: server.url,
    dir,
    storage,
    async close() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** UTF-8 bytes of a string. */
export const bytes = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);

/** Pushes a blob with a monolithic POST; asserts nothing, returns the response. */
export async function pushBlob(
  url: string,
  repo: string,
  data: Uint8Array<ArrayBuffer>,
): Promise<Digest> {
  const digest = sha256(data);
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    body: data,
  });
  await res.body?.cancel();
  if (res.status !== 201) throw new Error(`Push of blob to ${repo} failed: ${res.status}`);
  return digest;
}

/** An OCI image manifest for a config and layers already pushed. */
export function imageManifest(
  config: { digest: Digest; size: number },
  layers: { digest: Digest; size: number }[],
  extra: Record<string, unknown> = {},
): Uint8Array<ArrayBuffer> {
  return bytes(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...l })),
    ...extra,
  }));
}

/** Pushes a small image (one config, one layer) and tags it; returns the digests. */
export async function pushImage(
  url: string,
  repo: string,
  tag: string,
  seed = tag,
  extra: Record<string, unknown> = {},
): Promise<{ manifest: Digest; config: Digest; layer: Digest; body: Uint8Array<ArrayBuffer> }> {
  const configBytes = bytes(JSON.stringify({ architecture: "amd64", os: "linux", seed }));
  const layerBytes = bytes(`layer of ${seed}`);
  const config = await pushBlob(url, repo, configBytes);
  const layer = await pushBlob(url, repo, layerBytes);
  const body = imageManifest(
    { digest: config, size: configBytes.byteLength },
    [{ digest: layer, size: layerBytes.byteLength }],
    extra,
  );
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    body,
  });
  await res.body?.cancel();
  if (res.status !== 201) {
    throw new Error(`Push of manifest to ${repo}:${tag} failed: ${res.status}`);
  }
  return { manifest: sha256(body), config, layer, body };
}

/** Reads a response's spec error code. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = await res.json() as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

/**
 * Sends raw bytes over TCP (for lying Content-Lengths and cut connections);
 * reads the response head when `readResponse`.
 */
export async function rawRequest(
  port: number,
  head: string,
  body: Uint8Array = new Uint8Array(),
  readResponse = true,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(bytes(head));
    if (body.byteLength > 0) await conn.write(body);
    if (!readResponse) return "";
    const buf = new Uint8Array(64 * 1024);
    let text = "";
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}
