/**
 * `berth push [OPTIONS] NAME[:TAG]`: upload an image to a registry, with
 * Docker's progress lines and the pushed digest.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { Engine, RegistryConfig } from "../engine/mod.ts";
import { formatReference, parseReference, type Reference } from "../image/mod.ts";
import { bool, type Command } from "./_command.ts";
import { layerProgress } from "./_layer_progress.ts";

/** `push [OPTIONS] NAME[:TAG]` */
export const push: Command = {
  usage: "[OPTIONS] NAME[:TAG]",
  summary: "Upload an image to a registry",
  args: { min: 1, max: 1 },
  flags: [
    {
      name: "all-tags",
      short: "a",
      type: "bool",
      description: "Push all tags of an image to the repository",
    },
    { name: "quiet", short: "q", type: "bool", description: "Suppress verbose output" },
    { name: "disable-content-trust", type: "bool", description: "Skip image signing (ignored)" },
  ],
  async run(ctx, flags, args) {
    const given = args[0]!;
    const ref = parseReference(given);
    const all = bool(flags, "all-tags");
    if (ref.digest !== undefined) {
      throw new UsageError(`Cannot push a digest reference: "${given}"`);
    }
    if (all && /:[^/]*$/.test(given)) {
      throw new UsageError("Tag can't be used with --all-tags/-a");
    }
    const quiet = bool(flags, "quiet");
    if (!all && !quiet && !/[:@][^/]*$/.test(given)) ctx.print("Using default tag: latest\n");
    const engine = Engine.open(ctx.root);
    const refs: Reference[] = all ? await engine.localTags(ref) : [ref];
    if (refs.length === 0) {
      throw new UsageError(`An image does not exist locally with the repository: ${given}`);
    }
    const progress = layerProgress(ctx, quiet);
    const registry = RegistryConfig.load(undefined, ctx.insecureRegistries);
    for (const one of refs) {
      await engine.pushImage(one, { registry, onEvent: progress.event });
      if (quiet) ctx.print(`${formatReference(one)}\n`);
    }
    return 0;
  },
};
