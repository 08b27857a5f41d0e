/**
 * `berth volume create|ls|inspect|rm|prune`: Docker's volume commands over
 * the engine's {@linkcode VolumeStore}.
 *
 * @module
 */
import { NotFoundError, UsageError } from "../errors.ts";
import { ContainerReader, Engine } from "../engine/read.ts";
import {
  ANONYMOUS_LABEL,
  removeUnused,
  type VolumeRecord,
  VolumeStore,
  volumeUsers,
} from "../engine/volumes.ts";
import { bool, type Command, type Context, list, str } from "./_command.ts";
import { confirm } from "./_confirm.ts";
import { forEachName } from "./_each.ts";
import { type Filter, hasLabel, keyValues, parseFilters } from "./_filters.ts";
import { INSPECT_FLAGS, inspectEach, printRows } from "./_format.ts";
import { humanSize } from "./_units.ts";

/** Volume filters: `dangling` and `all` are booleans. */
function checkFilter(filter: Filter): void {
  if (filter.key === "dangling" || filter.key === "all") parseBool(filter.key, filter.value);
}

function parseBool(key: string, value: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new UsageError(`Invalid filter '${key}=${value}'`);
}

/** Docker's volume filters: values of one key are ORed, keys ANDed. */
function matches(
  v: VolumeRecord,
  filters: readonly Filter[],
  inUse: (name: string) => boolean,
): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f.value]);
  for (const [key, values] of byKey) {
    const ok = key === "label!" ? values.every((x) => !hasLabel(v.Labels, x)) : values.some((x) => {
      switch (key) {
        case "name":
          try {
            return new RegExp(x).test(v.Name);
          } catch {
            return false;
          }
        case "driver":
          return v.Driver === x;
        case "label":
          return hasLabel(v.Labels, x);
        case "dangling":
          return parseBool(key, x) === !inUse(v.Name);
        default: // `all` (prune): chooses the volumes, filters none out
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}

async function usersOf(ctx: Context, engine: Engine): Promise<Map<string, string[]>> {
  const reader = new ContainerReader(engine.store, { self: ctx.self, runRoot: ctx.runRoot });
  return volumeUsers(await reader.list());
}

const volumes = (engine: Engine) => new VolumeStore(engine.store.root, engine.store.tmpDir);

/** `volume create [OPTIONS] [VOLUME]` */
export const volumeCreate: Command = {
  usage: "[OPTIONS] [VOLUME]",
  summary: "Create a volume",
  args: { max: 1 },
  flags: [
    {
      name: "driver",
      short: "d",
      type: "string",
      value: "string",
      description: "Specify volume driver name",
      default: "local",
    },
    { name: "label", type: "list", value: "list", description: "Set metadata for a volume" },
    {
      name: "opt",
      short: "o",
      type: "list",
      value: "map",
      description: "Set driver specific options (type, device, o)",
    },
  ],
  run(ctx, flags, args) {
    const driver = str(flags, "driver");
    const v = volumes(Engine.open(ctx.root)).create(args[0], {
      ...(driver === undefined ? {} : { driver }),
      labels: keyValues(list(flags, "label")),
      options: keyValues(list(flags, "opt")),
    });
    ctx.print(`${v.Name}\n`);
    return Promise.resolve(0);
  },
};

/** `volume ls [OPTIONS]` */
export const volumeLs: Command = {
  usage: "[OPTIONS]",
  summary: "List volumes",
  args: { max: 0 },
  flags: [
    {
      name: "filter",
      short: "f",
      type: "list",
      value: "filter",
      description: "Provide filter values (e.g. 'dangling=true', 'name=NAME', 'label=KEY[=VALUE]')",
    },
    {
      name: "format",
      type: "string",
      value: "string",
      description:
        "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template",
    },
    { name: "quiet", short: "q", type: "bool", description: "Only display volume names" },
  ],
  async run(ctx, flags) {
    const filters = parseFilters(
      list(flags, "filter"),
      ["name", "label", "dangling", "driver"],
      checkFilter,
    );
    const engine = Engine.open(ctx.root, { reading: true });
    const users = filters.some((f) => f.key === "dangling")
      ? await usersOf(ctx, engine)
      : new Map<string, string[]>();
    const found = volumes(engine).list().filter((v) => matches(v, filters, (n) => users.has(n)));
    if (bool(flags, "quiet")) {
      for (const v of found) ctx.print(`${v.Name}\n`);
      return 0;
    }
    const rows = found.map((v) => ({
      Name: v.Name,
      Driver: v.Driver,
      Scope: v.Scope,
      Mountpoint: v.Mountpoint,
      Labels: Object.entries(v.Labels).map(([k, x]) => `${k}=${x}`).join(","),
      Links: "N/A",
      Size: "N/A",
      CreatedAt: v.CreatedAt,
    }));
    await printRows(ctx, rows, {
      format: str(flags, "format"),
      columns: [{ header: "DRIVER", field: "Driver" }, { header: "VOLUME NAME", field: "Name" }],
      headers: {
        Scope: "SCOPE",
        Mountpoint: "MOUNTPOINT",
        Labels: "LABELS",
        Links: "LINKS",
        Size: "SIZE",
        CreatedAt: "CREATED AT",
      },
    });
    return 0;
  },
};

/** `volume inspect [OPTIONS] VOLUME [VOLUME...]` */
export const volumeInspect: Command = {
  usage: "[OPTIONS] VOLUME [VOLUME...]",
  summary: "Display detailed information on one or more volumes",
  args: { min: 1 },
  flags: INSPECT_FLAGS,
  async run(ctx, flags, args) {
    const store = volumes(Engine.open(ctx.root, { reading: true }));
    await inspectEach(ctx, args, (name) => store.get(name), "volume", str(flags, "format"));
    return 0;
  },
};

/** `volume rm [OPTIONS] VOLUME [VOLUME...]` */
export const volumeRm: Command = {
  usage: "[OPTIONS] VOLUME [VOLUME...]",
  summary: "Remove one or more volumes",
  args: { min: 1 },
  flags: [{
    name: "force",
    short: "f",
    type: "bool",
    description: "Force the removal of one or more volumes",
  }],
  run(ctx, flags, args) {
    const engine = Engine.open(ctx.root);
    const store = volumes(engine);
    const force = bool(flags, "force");
    // Under the store's lock, which container create holds while it writes a record: no
    // container can take a volume between the check and the removal.
    return engine.store.locked(async () => {
      const users = await usersOf(ctx, engine);
      // As Docker: `-f` passes over a missing volume (printing its name), never over one in use.
      return forEachName(
        ctx,
        args,
        (name) => Promise.resolve(removeUnused(store, name, users)),
        (error) => force && error instanceof NotFoundError && "listed",
      );
    });
  },
};

/** `volume prune [OPTIONS]` */
export const volumePrune: Command = {
  usage: "[OPTIONS]",
  summary: "Remove unused local volumes",
  args: { max: 0 },
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Remove all unused volumes, not just anonymous ones",
    },
    {
      name: "filter",
      type: "list",
      value: "filter",
      description: "Provide filter values (e.g. 'label=<label>')",
    },
    { name: "force", short: "f", type: "bool", description: "Do not prompt for confirmation" },
  ],
  async run(ctx, flags) {
    const filters = parseFilters(list(flags, "filter"), ["label", "label!", "all"], checkFilter);
    const all = bool(flags, "all") ||
      filters.some((f) => f.key === "all" && parseBool("all", f.value));
    const warning = all
      ? "WARNING! This will remove all local volumes not used by at least one container."
      : "WARNING! This will remove anonymous local volumes not used by at least one container.";
    if (!bool(flags, "force") && !(await confirm(ctx, warning))) return 0;
    const engine = Engine.open(ctx.root);
    const store = volumes(engine);
    let reclaimed = 0;
    const deleted: string[] = [];
    // Under the store's lock, as `volume rm`.
    await engine.store.locked(async () => {
      const users = await usersOf(ctx, engine);
      const doomed = store.list().filter((v) =>
        !users.has(v.Name) && (all || ANONYMOUS_LABEL in v.Labels) &&
        matches(v, filters, () => false)
      );
      for (const v of doomed) {
        const size = store.size(v.Name);
        try {
          store.remove(v.Name);
        } catch (error) {
          if (error instanceof NotFoundError) continue; // removed by another process meanwhile
          throw error;
        }
        reclaimed += size;
        deleted.push(v.Name);
      }
    });
    if (deleted.length > 0) ctx.print(`Deleted Volumes:\n${deleted.join("\n")}\n\n`);
    ctx.print(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
