/**
 * `berth system df`: disk usage by object kind.
 *
 * @module
 */
import { Engine, type UsageRow } from "../engine/mod.ts";
import { ContainerReader, containerSize, familiarTags } from "../engine/read.ts";
import { VolumeStore } from "../engine/volumes.ts";
import { familiarName, parseReference } from "../image/mod.ts";
import { bool, type Command, type Context, str } from "./_command.ts";
import { printRows } from "./_format.ts";
import { commandText, statusText } from "./ps.ts";
import { humanSize, sinceTime } from "./_units.ts";

/** `system df -v`: Docker's three detail tables and the build cache line. */
async function printVerbose(ctx: Context, engine: Engine): Promise<void> {
  const now = Date.now();
  const images = engine.listImages();
  const reader = new ContainerReader(engine.store, { self: ctx.self, runRoot: ctx.runRoot });
  const containers = await reader.list();
  const layerSize = (chain: string) =>
    engine.store.layers.info(chain as `sha256:${string}`)?.size ?? 0;
  const users = new Map<string, number>();
  for (const image of images) {
    for (const chain of new Set(image.chainIds)) users.set(chain, (users.get(chain) ?? 0) + 1);
  }
  const imageRows = images.flatMap((image) => {
    const chains = [...new Set(image.chainIds)];
    const size = chains.reduce((sum, c) => sum + layerSize(c), 0);
    const shared = chains.filter((c) => (users.get(c) ?? 0) > 1)
      .reduce((sum, c) => sum + layerSize(c), 0);
    const created = image.config.created;
    const row = {
      ID: image.id.slice(7, 19),
      CreatedSince: created ? sinceTime(created, now) : "N/A",
      Size: humanSize(size),
      SharedSize: humanSize(shared),
      UniqueSize: humanSize(size - shared, 4),
      Containers: String(containers.filter((c) => c.Image === image.id).length),
    };
    const tags = familiarTags(image);
    if (tags.length === 0) return [{ Repository: "<none>", Tag: "<none>", ...row }];
    return tags.map((tag) => {
      const ref = parseReference(tag);
      return { Repository: familiarName(ref), Tag: ref.tag ?? "<none>", ...row };
    });
  });
  ctx.print("Images space usage:\n\n");
  await printRows(ctx, imageRows, {
    columns: [
      { header: "REPOSITORY", field: "Repository" },
      { header: "TAG", field: "Tag" },
      { header: "IMAGE ID", field: "ID" },
      { header: "CREATED", field: "CreatedSince" },
      { header: "SIZE", field: "Size" },
      { header: "SHARED SIZE", field: "SharedSize" },
      { header: "UNIQUE SIZE", field: "UniqueSize" },
      { header: "CONTAINERS", field: "Containers" },
    ],
  });
  const containerRows = containers.map((c) => ({
    ID: c.Id.slice(0, 12),
    Image: c.Config.Image || c.Image.slice(7, 19),
    Command: commandText(c, false),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === "volume").length),
    Size: humanSize(containerSize(reader, c).SizeRw),
    RunningFor: sinceTime(c.Created, now),
    Status: statusText(c, now),
    Names: c.Name.slice(1),
  }));
  ctx.print("\nContainers space usage:\n\n");
  await printRows(ctx, containerRows, {
    columns: [
      { header: "CONTAINER ID", field: "ID" },
      { header: "IMAGE", field: "Image" },
      { header: "COMMAND", field: "Command" },
      { header: "LOCAL VOLUMES", field: "LocalVolumes" },
      { header: "SIZE", field: "Size" },
      { header: "CREATED", field: "RunningFor" },
      { header: "STATUS", field: "Status" },
      { header: "NAMES", field: "Names" },
    ],
  });
  const volumes = new VolumeStore(engine.store.root, engine.store.tmpDir);
  const volumeRows = volumes.list().map((v) => ({
    Name: v.Name,
    Links: String(
      containers.filter((c) => (c.Mounts ?? []).some((m) => m.Name === v.Name)).length,
    ),
    Size: humanSize(volumes.size(v.Name)),
  }));
  ctx.print("\nLocal Volumes space usage:\n\n");
  await printRows(ctx, volumeRows, {
    columns: [
      { header: "VOLUME NAME", field: "Name" },
      { header: "LINKS", field: "Links" },
      { header: "SIZE", field: "Size" },
    ],
  });
  ctx.print("\nBuild cache usage: 0B\n\n");
  await printRows(ctx, [], {
    columns: ["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"]
      .map((header) => ({ header, field: header })),
  });
}

/** `system df [OPTIONS]` */
export const df: Command = {
  usage: "[OPTIONS]",
  summary: "Show berth disk usage",
  args: { max: 0 },
  flags: [
    {
      name: "format",
      type: "string",
      value: "string",
      description:
        "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template",
    },
    {
      name: "verbose",
      short: "v",
      type: "bool",
      description: "Show detailed information on space usage",
    },
  ],
  async run(ctx, flags) {
    const engine = Engine.open(ctx.root);
    if (bool(flags, "verbose") && str(flags, "format") === undefined) {
      await printVerbose(ctx, engine);
      return 0;
    }
    const usage = engine.diskUsage();
    const row = (type: string, u: UsageRow) => ({
      Type: type,
      TotalCount: u.total,
      Active: u.active,
      Size: humanSize(u.size),
      Reclaimable: `${humanSize(u.reclaimable)} (${
        u.size === 0 ? 0 : Math.round((u.reclaimable / u.size) * 100)
      }%)`,
    });
    const rows = [
      row("Images", usage.images),
      row("Containers", usage.containers),
      // berth has no volumes or build cache yet: these rows are truly empty.
      { Type: "Local Volumes", TotalCount: 0, Active: 0, Size: "0B", Reclaimable: "0B" },
      { Type: "Build Cache", TotalCount: 0, Active: 0, Size: "0B", Reclaimable: "0B" },
    ];
    await printRows(ctx, rows, {
      format: str(flags, "format"),
      columns: [
        { header: "TYPE", field: "Type" },
        { header: "TOTAL", field: "TotalCount" },
        { header: "ACTIVE", field: "Active" },
        { header: "SIZE", field: "Size" },
        { header: "RECLAIMABLE", field: "Reclaimable" },
      ],
    });
    return 0;
  },
};
