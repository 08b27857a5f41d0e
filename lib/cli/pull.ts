/**
 * `berth pull [OPTIONS] NAME[:TAG|@DIGEST]`: download an image from a
 * registry, with Docker's progress lines and status.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { Engine, type PullResult, RegistryConfig } from "../engine/mod.ts";
import {
  familiarName,
  familiarString,
  formatReference,
  parsePlatform,
  parseReference,
  type Reference,
  repositoryName,
} from "../image/mod.ts";
import { bool, type Command, int, str } from "./_command.ts";
import { layerProgress } from "./_layer_progress.ts";

/** Docker's default number of parallel layer downloads. */
const DEFAULT_DOWNLOADS = 3;

function concurrency(flag: number | undefined): number {
  const value = flag ?? Number(Deno.env.get("BERTH_MAX_CONCURRENT_DOWNLOADS") || DEFAULT_DOWNLOADS);
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`Invalid number of concurrent downloads: ${value}`);
  }
  return value;
}

/** `pull [OPTIONS] NAME[:TAG|@DIGEST]` */
export const pull: Command = {
  usage: "[OPTIONS] NAME[:TAG|@DIGEST]",
  summary: "Download an image from a registry",
  args: { min: 1, max: 1 },
  flags: [
    {
      name: "all-tags",
      short: "a",
      type: "bool",
      description: "Download all tagged images in the repository",
    },
    {
      name: "platform",
      type: "string",
      value: "string",
      description: "Set platform if server is multi-platform capable",
    },
    { name: "quiet", short: "q", type: "bool", description: "Suppress verbose output" },
    {
      name: "max-concurrent-downloads",
      type: "int",
      value: "int",
      description: "Layers downloaded at once (env BERTH_MAX_CONCURRENT_DOWNLOADS, default 3)",
    },
    {
      name: "disable-content-trust",
      type: "bool",
      description: "Skip image verification (ignored)",
    },
  ],
  async run(ctx, flags, args) {
    const given = args[0]!;
    const ref = parseReference(given);
    const all = bool(flags, "all-tags");
    if (all && (ref.digest !== undefined || /:[^/]*$/.test(given))) {
      throw new UsageError("Tag can't be used with --all-tags/-a");
    }
    const platformFlag = str(flags, "platform");
    const quiet = bool(flags, "quiet");
    if (!all && !quiet && !/[:@][^/]*$/.test(given)) ctx.print("Using default tag: latest\n");
    const engine = Engine.open(ctx.root);
    const registry = RegistryConfig.load(undefined, ctx.insecureRegistries);
    const progress = layerProgress(ctx, quiet);
    const options = {
      registry,
      maxConcurrentDownloads: concurrency(int(flags, "max-concurrent-downloads")),
      onEvent: progress.event,
      ...(platformFlag !== undefined ? { platform: parsePlatform(platformFlag) } : {}),
    };
    let refs: Reference[] = [ref];
    if (all) {
      const tags = await registry.client(ref.domain).listTags(ref.path);
      refs = tags.map((tag) => ({ domain: ref.domain, path: ref.path, tag }));
    }
    const results: PullResult[] = [];
    for (const one of refs) results.push(await engine.pullImage(one, options));
    const shown = all ? familiarName(ref) : familiarString(ref);
    const fresh = results.some((r) => !r.upToDate);
    if (!quiet) {
      ctx.print(
        fresh
          ? `Status: Downloaded newer image for ${shown}\n`
          : `Status: Image is up to date for ${shown}\n`,
      );
    }
    ctx.print(`${all ? repositoryName(ref) : formatReference(ref)}\n`);
    return 0;
  },
};
