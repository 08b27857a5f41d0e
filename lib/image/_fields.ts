/**
 * Shape checks for decoded JSON documents. Every failure names the document
 * and the JSON path of the field, as in
 * `Invalid image manifest: "layers[2].digest" is not a digest`.
 *
 * @module
 */
import { type Digest, isDigest } from "../digest.ts";
import { InvalidError } from "../errors.ts";

/** A decoded JSON object. */
export type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Decodes bytes or text as a JSON object, naming `what` on failure. */
export function decodeObject(input: Uint8Array | string, what: string): JsonObject {
  const text = typeof input === "string" ? input : new TextDecoder().decode(input);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidError(`Invalid ${what}: not valid JSON`, { cause });
  }
  if (!isObject(value)) throw new InvalidError(`Invalid ${what}: not a JSON object`);
  return value;
}

/** Typed accessors over one JSON object at a known path inside a document. */
export class Fields {
  readonly what: string;
  readonly obj: JsonObject;
  readonly path: string;

  constructor(what: string, obj: JsonObject, path = "") {
    this.what = what;
    this.obj = obj;
    this.path = path;
  }

  /** The JSON path of `key` inside the document. */
  name(key: string): string {
    return this.path === "" ? key : `${this.path}.${key}`;
  }

  /** Throws `Invalid <what>: "<path>" <problem>`. */
  fail(key: string, problem: string): never {
    throw new InvalidError(`Invalid ${this.what}: "${this.name(key)}" ${problem}`);
  }

  #get(key: string, required: boolean): unknown {
    const value = this.obj[key];
    if (value === undefined && required) this.fail(key, "is missing");
    return value;
  }

  string(key: string, required = true): string | undefined {
    const value = this.#get(key, required);
    if (value !== undefined && typeof value !== "string") this.fail(key, "is not a string");
    return value as string | undefined;
  }

  boolean(key: string): boolean | undefined {
    const value = this.#get(key, false);
    if (value !== undefined && typeof value !== "boolean") this.fail(key, "is not a boolean");
    return value as boolean | undefined;
  }

  integer(key: string, required = true): number | undefined {
    const value = this.#get(key, required);
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
      this.fail(key, "is not a non-negative integer");
    }
    return value as number | undefined;
  }

  digest(key: string): Digest {
    const value = this.#get(key, true);
    if (!isDigest(value)) this.fail(key, "is not a digest");
    return value;
  }

  /** An array of digests (`rootfs.diff_ids`). */
  digests(key: string): void {
    const value = this.#get(key, true);
    if (!Array.isArray(value)) this.fail(key, "is not an array");
    value.forEach((item, i) => {
      if (!isDigest(item)) this.fail(`${key}[${i}]`, "is not a digest");
    });
  }

  /** An array of strings; `null` passes when `nullable` (Docker writes `"Cmd": null`). */
  strings(key: string, { required = false, nullable = false } = {}): void {
    const value = this.#get(key, required);
    if (value === undefined || (value === null && nullable)) return;
    if (!Array.isArray(value)) this.fail(key, "is not an array");
    value.forEach((item, i) => {
      if (typeof item !== "string") this.fail(`${key}[${i}]`, "is not a string");
    });
  }

  /** An object whose values are all strings (annotations, labels). */
  stringMap(key: string, nullable = false): void {
    const value = this.#get(key, false);
    if (value === undefined || (value === null && nullable)) return;
    if (!isObject(value)) this.fail(key, "is not an object");
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") this.fail(`${key}.${k}`, "is not a string");
    }
  }

  /** A nested object as Fields, or undefined when absent (or null and `nullable`). */
  object(key: string, { required = false, nullable = false } = {}): Fields | undefined {
    const value = this.#get(key, required);
    if (value === undefined || (value === null && nullable)) return undefined;
    if (!isObject(value)) this.fail(key, "is not an object");
    return new Fields(this.what, value, this.name(key));
  }

  /** Each element of an array of objects as Fields. */
  objects(key: string, required = true): Fields[] | undefined {
    const value = this.#get(key, required);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) this.fail(key, "is not an array");
    return value.map((item, i) => {
      if (!isObject(item)) this.fail(`${key}[${i}]`, "is not an object");
      return new Fields(this.what, item, this.name(`${key}[${i}]`));
    });
  }
}
