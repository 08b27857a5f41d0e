/**
 * The build context: read once from a directory or a tar stream with
 * `.dockerignore` applied, COPY/ADD sources resolved in it as Docker does,
 * and a content digest of those sources for the build cache.
 *
 * @example
 * ```ts
 * import { digestSources, openDirContext, resolveCopy } from "./lib/build/context/mod.ts";
 * const context = await openDirContext("./app");
 * const items = resolveCopy(context, ["src", "*.json"], "/app/", { workdir: "/" });
 * const key = await digestSources(context, items);
 * for (const { entry, dest } of items) {
 *   if (entry.type === "file") await context.open(entry.path); // write to the layer at dest
 * }
 * await context.close();
 * ```
 * @module
 */
export {
  BuildContext,
  type ContextEntry,
  type ContextOptions,
  entryOf,
  type EntryType,
  implicitDir,
  openDirContext,
  readTarContext,
  type TarContextOptions,
} from "./context.ts";
export { cleanPath, IgnoreMatcher, type MatchState, parseIgnoreFile } from "./ignore.ts";
export { BAD_PATTERN, type GlobToken, hasWildcards, matchGlob, parseGlob } from "./glob.ts";
export { type CopyItem, lookup, resolveCopy, type ResolveCopyOptions } from "./match.ts";
export { digestSources, type DigestSourcesOptions } from "./digest.ts";
