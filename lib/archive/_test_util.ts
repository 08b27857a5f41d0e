/**
 * Test helpers for lib/archive: building tars in memory with tar-stream,
 * plus raw PAX and GNU long-name blocks that tar-stream cannot write.
 *
 * @module
 */
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { Buffer } from "node:buffer";
import { lgetxattr } from "../../ffi/fs.ts";

/** A tar-stream header plus the entry's body and raw blocks to put before it. */
export interface Fixture extends tar.Headers {
  body?: string | Uint8Array;
  /** PAX records written raw (binary values kept), in a header before the entry. */
  pax?: Record<string, string | Uint8Array>;
  /** Puts a GNU 'L' long-name block with this name before the entry. */
  gnuLongName?: string;
}

const encoder = new TextEncoder();

/** Builds a tar of `entries` with tar-stream's pack. */
export async function makeTar(entries: Fixture[]): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  pack.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  const ended = new Promise((resolve) => pack.on("end", resolve));
  for (const { body, pax, gnuLongName, ...header } of entries) {
    if (pax !== undefined) pack.push(Buffer.from(rawBlock("x", "PaxHeader", paxBody(pax))));
    if (gnuLongName !== undefined) {
      pack.push(Buffer.from(rawBlock("L", "././@LongLink", encoder.encode(`${gnuLongName}\0`))));
    }
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => error ? reject(error) : resolve();
      if (body === undefined) pack.entry(header, done);
      else {pack.entry(
          header,
          Buffer.from(typeof body === "string" ? encoder.encode(body) : body),
          done,
        );}
    });
  }
  pack.finalize();
  await ended;
  return concat(chunks);
}

/** One ustar header block of type `typeflag`, followed by `body` padded to 512 bytes. */
export function rawBlock(typeflag: string, name: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(512 + Math.ceil(body.byteLength / 512) * 512);
  const put = (offset: number, text: string) => out.set(encoder.encode(text), offset);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, "0");
  put(0, name);
  put(100, octal(0o644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(body.byteLength, 12));
  put(136, octal(0, 12));
  put(148, "        ");
  put(156, typeflag);
  put(257, "ustar\x0000");
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += out[i]!;
  put(148, `${octal(sum, 7)}\0`);
  out.set(body, 512);
  return out;
}

/** Encodes PAX records; each is "<len> <key>=<value>\n" with len counting itself. */
function paxBody(records: Record<string, string | Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [key, raw] of Object.entries(records)) {
    const value = typeof raw === "string" ? encoder.encode(raw) : raw;
    const rest = encoder.encode(` ${key}=`).byteLength + value.byteLength + 1;
    let length = rest + 1;
    while (String(length).length + rest > length) length++;
    parts.push(encoder.encode(`${length} ${key}=`), value, encoder.encode("\n"));
  }
  return concat(parts);
}

/** Concatenates byte arrays. */
export function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** A stream of `bytes` in chunks of `chunkSize`. */
export function streamOf(bytes: Uint8Array, chunkSize = 4096): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

/** Reads a whole stream. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return concat(chunks);
}

/**
 * Runs `fn` with a fresh sentinel directory holding an empty `root/` to
 * extract into, and removes it afterwards.
 */
export async function withRoot(fn: (root: string, parent: string) => Promise<void>): Promise<void> {
  const parent = await Deno.makeTempDir({ prefix: "berth-archive-" });
  try {
    const root = `${parent}/root`;
    await Deno.mkdir(root);
    await fn(root, parent);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

/** Names in `dir`, sorted. */
export function list(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** An xattr as text, or undefined. */
export function xattrText(path: string, name: string): string | undefined {
  const value = lgetxattr(path, name);
  return value === undefined ? undefined : new TextDecoder().decode(value);
}

/** Major and minor of a device number as Linux encodes it. */
export function majorMinor(rdev: number): [number, number] {
  return [(rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00)];
}
