/**
 * COPY/ADD sources resolved against a build context as Docker does:
 * relative to the context root, never outside it, wildcards per path
 * segment, symlinks in a source path followed inside the context, and a
 * directory source copying its contents.
 *
 * @module
 */
import { InvalidError, NotFoundError } from "../../errors.ts";
import type { BuildContext, ContextEntry } from "./context.ts";
import { hasWildcards, matchGlob, parseGlob } from "./glob.ts";
import { cleanPath } from "./ignore.ts";

/** One entry to create in the image. */
export interface CopyItem {
  /** The entry in the context (for a followed symlink, its target's entry). */
  entry: ContextEntry;
  /** Absolute, cleaned path in the image. */
  dest: string;
}

/** Options for {@linkcode resolveCopy}. */
export interface ResolveCopyOptions {
  /** Names the instruction in messages. @default "COPY" */
  instruction?: "COPY" | "ADD";
  /** The stage's WORKDIR, for a relative destination. @default "/" */
  workdir?: string;
  /** Whether the image already has a directory at an absolute path (then a file goes inside). */
  isDirectory?: (path: string) => boolean;
}

/** Symlinks followed while resolving one path, as Linux's limit. */
const MAX_LINKS = 40;

/**
 * Resolves the sources of a COPY/ADD into the entries to create, in order.
 * @param context the build context
 * @param sources the source arguments, after variable expansion
 * @param dest the destination argument; a trailing `/` (or `.`) makes it a directory
 * @returns every file, directory and symlink to create, with its image path
 * @throws {InvalidError} `When using COPY with more than one source file, the destination
 *   must be a directory and end with a /`; `COPY failed: forbidden path outside the build
 *   context: ../x ()`; `COPY failed: no source files were specified` (a wildcard matched nothing)
 * @throws {NotFoundError} `failed to compute cache key: "/x": not found`
 */
export function resolveCopy(
  context: BuildContext,
  sources: readonly string[],
  dest: string,
  options: ResolveCopyOptions = {},
): CopyItem[] {
  const instruction = options.instruction ?? "COPY";
  const slashed = dest.endsWith("/") || dest === "." || dest.endsWith("/.");
  if (sources.length > 1 && !slashed) {
    throw new InvalidError(
      `When using ${instruction} with more than one source file, the destination must be a directory and end with a /`,
    );
  }
  const target = cleanPath(dest.startsWith("/") ? dest : `${options.workdir ?? "/"}/${dest}`);
  const matched: Array<{ name: string; entry: ContextEntry }> = [];
  for (const source of sources) {
    // A rooted source is rooted at the context: "/../x" is "x".
    const relative = source.startsWith("/") ? cleanPath(source).slice(1) || "." : cleanPath(source);
    if (relative === ".." || relative.startsWith("../")) {
      throw new InvalidError(
        `${instruction} failed: forbidden path outside the build context: ${source} ()`,
      );
    }
    const path = relative === "." ? "" : relative;
    if (hasWildcards(path)) {
      const found = expand(context, path);
      if (found.length === 0) {
        throw new InvalidError(`${instruction} failed: no source files were specified`);
      }
      matched.push(...found);
    } else {
      const entry = lookup(context, path, true);
      if (entry === undefined) throw notFound(path);
      matched.push({ name: baseName(path), entry });
    }
  }
  const intoDir = slashed || matched.length > 1 || (options.isDirectory?.(target) ?? false);
  const items: CopyItem[] = [];
  for (const { name, entry } of matched) {
    if (entry.type === "directory") {
      // A directory's contents are copied, not the directory itself.
      for (const inner of descendants(context, entry.path)) {
        const rel = entry.path === "" ? inner.path : inner.path.slice(entry.path.length + 1);
        items.push({ entry: inner, dest: join(target, rel) });
      }
    } else {
      items.push({ entry, dest: intoDir ? join(target, name) : target });
    }
  }
  return items;
}

function notFound(path: string): NotFoundError {
  return new NotFoundError(`failed to compute cache key: "/${path}": not found`);
}

function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Finds the entry at `path`, following symlinks in its directories (and in
 * its last component if `followLast`) inside the context: an absolute
 * target, or one climbing with `..`, stops at the context root.
 * @returns the entry, or undefined when nothing is there
 */
export function lookup(
  context: BuildContext,
  path: string,
  followLast: boolean,
): ContextEntry | undefined {
  const todo = path === "" ? [] : path.split("/");
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const here = [...done, part].join("/");
    const entry = context.get(here);
    if (entry === undefined) return undefined;
    if (entry.type === "symlink" && (todo.length > 0 || followLast)) {
      if (++links > MAX_LINKS) {
        throw new InvalidError(`failed to resolve "/${path}": too many levels of symbolic links`);
      }
      if (entry.linkTarget.startsWith("/")) done.length = 0;
      todo.unshift(...entry.linkTarget.split("/"));
      continue;
    }
    if (todo.length > 0 && entry.type !== "directory") return undefined;
    done.push(part);
  }
  return context.get(done.join("/"));
}

/** Matches a wildcard path segment by segment; symlinks among matches are followed. */
function expand(context: BuildContext, path: string): Array<{ name: string; entry: ContextEntry }> {
  let current: Array<{ name: string; entry: ContextEntry }> = [{ name: "", entry: context.root }];
  const segments = path.split("/");
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const next: Array<{ name: string; entry: ContextEntry }> = [];
    const tokens = hasWildcards(segment) ? parseGlob(segment) : undefined;
    for (const { entry: dir } of current) {
      if (dir.type !== "directory") continue;
      for (const child of context.children(dir.path)) {
        const name = baseName(child.path);
        if (tokens === undefined ? name !== segment : !matchGlob(tokens, name)) continue;
        const entry = lookup(context, child.path, true);
        // A dangling link is only an error where it is what gets copied.
        if (entry === undefined && last) throw notFound(child.path);
        if (entry !== undefined) next.push({ name, entry });
      }
    }
    current = next;
  }
  return current;
}

/** Everything under a directory, parents first, symlinks not followed. */
function descendants(context: BuildContext, dir: string): ContextEntry[] {
  const out: ContextEntry[] = [];
  for (const child of context.children(dir)) {
    out.push(child);
    if (child.type === "directory") out.push(...descendants(context, child.path));
  }
  return out;
}
