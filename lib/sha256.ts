/**
 * SHA-256 in TypeScript (FIPS 180-4, section 6.2), for the digests a
 * container command checks: manifests, configs and chain IDs, a few KB at
 * most. It needs no `node:` module, so those commands skip Node-compat's
 * ~20 ms start; it runs ~10x slower than node:crypto, which hashes layers
 * (see lib/digest.ts).
 *
 * @module
 */

/** The first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
// deno-fmt-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Incremental SHA-256. */
export class Sha256 {
  // The first 32 bits of the fractional parts of the square roots of the first 8 primes.
  // deno-fmt-ignore
  #h = new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  #w = new Int32Array(64);
  #block = new Uint8Array(64);
  #used = 0;
  #length = 0;

  /** Adds bytes. */
  update(data: Uint8Array): this {
    let off = 0;
    this.#length += data.length;
    if (this.#used > 0) {
      const n = Math.min(64 - this.#used, data.length);
      this.#block.set(data.subarray(0, n), this.#used);
      this.#used += n;
      off = n;
      if (this.#used < 64) return this;
      this.#compress(this.#block, 0);
      this.#used = 0;
    }
    for (; off + 64 <= data.length; off += 64) this.#compress(data, off);
    if (off < data.length) {
      this.#block.set(data.subarray(off));
      this.#used = data.length - off;
    }
    return this;
  }

  /** The 32-byte hash; the object is spent afterwards. */
  digest(): Uint8Array {
    const bits = this.#length * 8;
    const tail = new Uint8Array(this.#used < 56 ? 64 : 128);
    tail.set(this.#block.subarray(0, this.#used));
    tail[this.#used] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
    view.setUint32(tail.length - 4, bits >>> 0);
    for (let off = 0; off < tail.length; off += 64) this.#compress(tail, off);
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setInt32(i * 4, this.#h[i]!);
    return out;
  }

  /** One 64-byte block at `off` into the state. */
  #compress(p: Uint8Array, off: number): void {
    const w = this.#w;
    const h = this.#h;
    for (let i = 0; i < 16; i++, off += 4) {
      w[i] = (p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
    h[5] = (h[5]! + f) | 0;
    h[6] = (h[6]! + g) | 0;
    h[7] = (h[7]! + hh) | 0;
  }
}
