/**
 * Test helpers: context directories and tars built from a short description.
 *
 * @module
 */
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { Buffer } from "node:buffer";

/** A path and what to put there: text for a file, `{ dir }`, or `{ link }` for a symlink. */
export type Spec = Record<string, string | { dir: true; mode?: number } | { link: string }>;

/** Creates the files of `spec` under a new temp dir and returns its path. */
export async function makeDir(spec: Spec): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "berth-ctx-" });
  for (const [path, what] of Object.entries(spec)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof what === "string") await Deno.writeTextFile(full, what);
    else if ("dir" in what) await Deno.mkdir(full, { recursive: true, mode: what.mode ?? 0o755 });
    else await Deno.symlink(what.link, full);
  }
  return root;
}

/** Packs tar members (tar-stream headers plus text bodies) into a stream. */
export function makeTar(
  members: Array<tar.Headers & { body?: string }>,
): ReadableStream<Uint8Array> {
  const pack = tar.pack();
  for (const { body, ...header } of members) {
    pack.entry(header, body === undefined ? undefined : Buffer.from(body));
  }
  pack.finalize();
  return new ReadableStream({
    start(controller) {
      pack.on("data", (chunk: Uint8Array) => controller.enqueue(new Uint8Array(chunk)));
      pack.on("end", () => controller.close());
    },
  });
}
