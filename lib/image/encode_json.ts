/**
 * Compact JSON encoding as Go's `encoding/json` writes manifests and configs
 * (registries, skopeo, moby), so that digests of re-encoded documents match.
 *
 * @module
 */

/** Options for {@linkcode encodeJson}. */
export interface EncodeJsonOptions {
  /**
   * Escape `<`, `>` and `&` as `\u003c`, `\u003e` and `\u0026`, as Go's
   * `json.Marshal` does (a `RUN a && b` history entry shows `\u0026\u0026`).
   * @default true
   */
  escapeHtml?: boolean;
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const LINE_SEPARATORS = /[\u2028\u2029]/g;

function escapeChar(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Encodes a value as compact UTF-8 JSON, keys in insertion order.
 * @param value a JSON-compatible value
 * @param options escaping
 * @returns the encoded bytes
 * @throws {TypeError} when `value` is not representable (a cycle, a bigint)
 */
export function encodeJson(value: unknown, options: EncodeJsonOptions = {}): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`Cannot encode ${typeof value} as JSON`);
  // Inside JSON text these characters occur only within strings, so a plain
  // replace cannot touch structure. Go always escapes U+2028 and U+2029.
  const escaped = text.replace(
    options.escapeHtml ?? true ? HTML_UNSAFE : LINE_SEPARATORS,
    escapeChar,
  );
  return new TextEncoder().encode(escaped);
}
