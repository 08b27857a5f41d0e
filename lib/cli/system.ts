/**
 * `berth system prune`: the prune of each kind in Docker's order
 * (containers, networks, with `--volumes` anonymous volumes, images, build
 * cache), one confirmation, and one total. Each kind's own prune command
 * does the work; their totals are summed as Docker's CLI sums what each
 * prune reports.
 *
 * @module
 */
import { bool, type Command, type Context, list } from "./_command.ts";
import type { FlagValues } from "./_args.ts";
import { confirm } from "./_confirm.ts";
import { humanSize } from "./_units.ts";
import { FILTER_FLAG, parsePruneFilter } from "./prune.ts";

const UNITS: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15 };

/** Runs a prune command, printing what it deleted; returns the bytes it reports reclaimed. */
async function pruneWith(ctx: Context, cmd: Command, flags: FlagValues): Promise<number> {
  let out = "";
  const captured: Context = { ...ctx, print: (text) => void (out += text) };
  const code = await cmd.run(captured, { ...flags, force: true }, []);
  let reclaimed = 0;
  const kept = out.split("\n").filter((line) => {
    const m = /^Total reclaimed space: ([\d.]+)(B|kB|MB|GB|TB|PB)$/.exec(line);
    if (m) reclaimed += Number(m[1]) * UNITS[m[2]!]!;
    return m === null;
  }).join("\n");
  ctx.print(kept);
  if (code !== 0) throw new Error(`prune ended with status ${code}`);
  return reclaimed;
}

/** `system prune [OPTIONS]` */
export const systemPrune: Command = {
  usage: "[OPTIONS]",
  summary: "Remove unused data",
  args: { max: 0 },
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Remove all unused images not just dangling ones",
    },
    FILTER_FLAG,
    { name: "force", short: "f", type: "bool", description: "Do not prompt for confirmation" },
    { name: "volumes", type: "bool", description: "Prune anonymous volumes" },
  ],
  async run(ctx, flags) {
    const filters = list(flags, "filter");
    parsePruneFilter(filters); // a bad filter is refused before the prompt
    const all = bool(flags, "all");
    const volumes = bool(flags, "volumes");
    const warning = "WARNING! This will remove:\n" +
      "  - all stopped containers\n" +
      "  - all networks not used by at least one container\n" +
      (volumes ? "  - all anonymous volumes not used by at least one container\n" : "") +
      (all
        ? "  - all images without at least one container associated to them\n" +
          "  - all build cache\n"
        : "  - all dangling images\n  - unused build cache\n");
    if (!bool(flags, "force") && !(await confirm(ctx, warning))) return 0;
    const labels = filters.filter((f) => f.startsWith("label=") || f.startsWith("label!="));
    const [
      { containerPrune },
      { networkPrune },
      { volumePrune },
      { imagePrune },
      { builderPrune },
    ] = await Promise.all([
      import("./container.ts"),
      import("./network.ts"),
      import("./volume.ts"),
      import("./prune.ts"),
      import("./build.ts"),
    ]);
    let reclaimed = await pruneWith(ctx, containerPrune, { filter: filters });
    reclaimed += await pruneWith(ctx, networkPrune, { filter: labels });
    if (volumes) reclaimed += await pruneWith(ctx, volumePrune, { filter: labels });
    reclaimed += await pruneWith(ctx, imagePrune, { all, filter: filters });
    reclaimed += await pruneWith(ctx, builderPrune, { all });
    ctx.print(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
