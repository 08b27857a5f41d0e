/**
 * Basic auth against an htpasswd file of bcrypt entries (`user:$2y$...`, as
 * `htpasswd -B` writes them).
 *
 * @module
 */
import bcrypt from "bcryptjs";
import { InvalidError } from "../../errors.ts";

/** Checks `Authorization` headers; resolves to the user name, or undefined when refused. */
export type Authenticator = (req: Request) => Promise<string | undefined>;

/** How long a checked `Authorization` header is trusted without running bcrypt again. */
const CACHE_MS = 5 * 60 * 1000;
const CACHE_MAX = 1000;

/** The users of an htpasswd file. */
export class Htpasswd {
  #hashes: Map<string, string>;
  #cache = new Map<string, { user: string; until: number }>();

  /**
   * Parses htpasswd text.
   * @throws {InvalidError} on a line that is not `user:$2[abxy]$...`
   */
  constructor(text: string) {
    this.#hashes = new Map();
    text.split("\n").forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const colon = line.indexOf(":");
      const hash = line.slice(colon + 1);
      if (colon <= 0 || !/^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
        throw new InvalidError(`Invalid htpasswd line ${i + 1}: only bcrypt entries are supported`);
      }
      // bcryptjs knows $2a$/$2b$; $2y$ (PHP, htpasswd -B) is the same algorithm.
      this.#hashes.set(line.slice(0, colon), hash.replace(/^\$2[xy]\$/, "$2b$"));
    });
  }

  /**
   * Reads an htpasswd file.
   * @throws {InvalidError} on a bad line; Deno's errors when it cannot be read
   */
  static async load(path: string): Promise<Htpasswd> {
    return new Htpasswd(await Deno.readTextFile(path));
  }

  /** Number of users. */
  get size(): number {
    return this.#hashes.size;
  }

  /** True when `password` is the password of `user`. */
  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.#hashes.get(user);
    if (hash === undefined) return false;
    return await bcrypt.compare(password, hash);
  }

  /** An {@linkcode Authenticator} for `Authorization: Basic ...` headers. */
  authenticator(): Authenticator {
    return async (req) => {
      const header = req.headers.get("Authorization");
      const m = header === null ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
      if (header === null || m === null) return undefined;
      const now = Date.now();
      const cached = this.#cache.get(header);
      if (cached !== undefined && cached.until > now) return cached.user;
      let decoded: string;
      try {
        decoded = new TextDecoder("utf-8", { fatal: true }).decode(
          Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0)),
        );
      } catch {
        return undefined;
      }
      const colon = decoded.indexOf(":");
      if (colon < 0) return undefined;
      const user = decoded.slice(0, colon);
      if (!(await this.verify(user, decoded.slice(colon + 1)))) return undefined;
      if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
      this.#cache.set(header, { user, until: now + CACHE_MS });
      return user;
    };
  }
}
