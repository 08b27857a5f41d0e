/**
 * Platform names (`linux/arm64/v8`) and picking a manifest from an index for
 * one, following containerd's platforms package: aliases are normalised and
 * a lower variant of the same architecture still runs (arm v6 on arm v7).
 *
 * @module
 */
import { InvalidError } from "../errors.ts";
import type { Descriptor } from "./descriptor.ts";
import type { Index } from "./index.ts";

/** The parts of a platform that select an image. */
export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, [string, string?]> = {
  "x86_64": ["amd64"],
  "x86-64": ["amd64"],
  "aarch64": ["arm64"],
  "armhf": ["arm", "v7"],
  "armel": ["arm", "v6"],
  "i386": ["386"],
};
/** The variant an architecture has when none is named. */
const DEFAULT_VARIANT: Record<string, string> = { amd64: "v1", arm64: "v8", arm: "v7" };
const KNOWN_OS = new Set(["linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris"]);
const PART = /^[a-z0-9._-]+$/;
/** Ranks an entry without a platform below every real match. */
const NO_PLATFORM_SCORE = 1000;

function canonical(p: PlatformSpec): { os: string; architecture: string; variant: string } {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() ?? "";
  const alias = ARCH_ALIASES[architecture];
  if (alias !== undefined) [architecture, variant] = [alias[0], alias[1] ?? variant];
  if (/^\d/.test(variant)) variant = `v${variant}`;
  if (variant === "") variant = DEFAULT_VARIANT[architecture] ?? "";
  return { os, architecture, variant };
}

function variantLevel(variant: string): number {
  const match = /^v(\d+)(?:\.(\d+))?$/.exec(variant);
  return match === null ? NaN : Number(match[1]) + Number(match[2] ?? 0) / 100;
}

/** Normalises aliases: `x86_64` → `amd64`, `aarch64` → `arm64`, `armhf` → `arm/v7`. */
export function normalizePlatform(p: PlatformSpec): PlatformSpec {
  const c = canonical(p);
  const hidden = c.variant === "" || (c.architecture === "amd64" && c.variant === "v1");
  return hidden ? { os: c.os, architecture: c.architecture } : c;
}

/** `os/architecture[/variant]`, as `--platform` takes it. */
export function formatPlatform(p: PlatformSpec): string {
  const variant = p.variant === undefined || p.variant === "" ? "" : `/${p.variant}`;
  return `${p.os}/${p.architecture}${variant}`;
}

/**
 * Parses a `--platform` value: `linux/arm64/v8`, `linux/amd64`, `linux` or `arm64`.
 * @throws {InvalidError} when it has too many parts or bad characters
 */
export function parsePlatform(value: string): PlatformSpec {
  const parts = value.toLowerCase().split("/");
  if (parts.length > 3 || !parts.every((part) => PART.test(part))) {
    throw new InvalidError(`Invalid platform "${value}": expected os[/arch[/variant]]`);
  }
  const [first, architecture, variant] = parts as [string, string?, string?];
  if (architecture === undefined) {
    return KNOWN_OS.has(first)
      ? normalizePlatform({ ...currentPlatform(), os: first })
      : normalizePlatform({ os: currentPlatform().os, architecture: first });
  }
  return normalizePlatform(
    variant === undefined ? { os: first, architecture } : { os: first, architecture, variant },
  );
}

/** The platform berth runs images for: Linux on the host's CPU (`linux/arm64/v8`). */
export function currentPlatform(): PlatformSpec {
  const arch: string = Deno.build.arch;
  if (arch === "aarch64") return { os: "linux", architecture: "arm64", variant: "v8" };
  return { os: "linux", architecture: arch === "x86_64" ? "amd64" : arch };
}

function score(entry: Descriptor, want: ReturnType<typeof canonical>): number | undefined {
  if (entry.platform === undefined) return NO_PLATFORM_SCORE;
  const have = canonical(entry.platform);
  if (have.os !== want.os || have.architecture !== want.architecture) return undefined;
  if (have.variant === want.variant) return 0;
  // A lower variant of the same architecture runs too; prefer the closest.
  const distance = variantLevel(want.variant) - variantLevel(have.variant);
  return distance > 0 ? distance : undefined;
}

/**
 * Picks the manifest of an index that best runs on `want`: an exact variant
 * first, then the closest lower variant, then an entry without a platform;
 * the first such entry in index order wins.
 * @param index an image index or manifest list
 * @param want the platform to run on; arm64 without a variant means v8
 * @returns the chosen descriptor, or undefined when none fits
 */
export function selectPlatform(index: Index, want: PlatformSpec): Descriptor | undefined {
  const wanted = canonical(want);
  let best: Descriptor | undefined;
  let bestScore = Infinity;
  for (const entry of index.manifests) {
    const s = score(entry, wanted);
    if (s !== undefined && s < bestScore) [best, bestScore] = [entry, s];
  }
  return best;
}
