/**
 * Docker's detach keys: `--detach-keys "ctrl-p,ctrl-q"` (the default), a
 * comma-separated list of single characters or `ctrl-<x>` for x in a-z, @,
 * [, \, ], ^ and _. Typing the whole sequence into an attached terminal
 * detaches from the container; a partial match is passed on untouched.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";
import type { FlagValues } from "./_args.ts";
import { str } from "./_command.ts";

/** Docker's default sequence. */
export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

const CTRL_SPECIALS: Record<string, number> = {
  "@": 0,
  "[": 27,
  "\\": 28,
  "]": 29,
  "^": 30,
  "_": 31,
};

/**
 * Parses a detach-key sequence.
 * @throws {InvalidError} for an unknown key, with Docker's message
 */
export function parseDetachKeys(spec: string): Uint8Array {
  const codes: number[] = [];
  for (const key of spec.split(",")) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0));
      continue;
    }
    const lower = key.toLowerCase();
    const x = lower.length === 6 && lower.startsWith("ctrl-") ? lower[5]! : undefined;
    if (x !== undefined && x >= "a" && x <= "z") codes.push(x.charCodeAt(0) - 96);
    else if (x !== undefined && x in CTRL_SPECIALS) codes.push(CTRL_SPECIALS[x]!);
    else throw new InvalidError(`Invalid detach keys (${spec}) provided`);
  }
  if (codes.length === 0 || codes.some((c) => c > 127)) {
    throw new InvalidError(`Invalid detach keys (${spec}) provided`);
  }
  return new Uint8Array(codes);
}

/**
 * The sequence given by a command's `--detach-keys`, or Docker's default.
 * @throws {InvalidError} for an unknown key
 */
export function detachKeysOf(flags: FlagValues): Uint8Array {
  return parseDetachKeys(str(flags, "detach-keys") ?? DEFAULT_DETACH_KEYS);
}

/** Finds a detach sequence in typed input, holding back a partial match until it is decided. */
export class DetachScanner {
  readonly #keys: Uint8Array;
  #matched = 0;

  constructor(keys: Uint8Array) {
    this.#keys = keys;
  }

  /**
   * Feeds input.
   * @returns the bytes to pass to the container, and whether the sequence is complete
   */
  feed(input: Uint8Array): { pass: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const byte of input) {
      if (byte === this.#keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.#keys.length) {
          this.#matched = 0;
          return { pass: new Uint8Array(out), detach: true };
        }
        continue;
      }
      // A broken match: what was held back goes through after all.
      for (let i = 0; i < this.#matched; i++) out.push(this.#keys[i]!);
      this.#matched = 0;
      if (byte === this.#keys[0]) {
        this.#matched = 1;
        if (this.#keys.length === 1) return { pass: new Uint8Array(out), detach: true };
      } else {
        out.push(byte);
      }
    }
    return { pass: new Uint8Array(out), detach: false };
  }
}
