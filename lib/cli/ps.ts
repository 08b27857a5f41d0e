/**
 * `berth ps` / `berth container ls`: containers with Docker's columns,
 * filters and formats.
 *
 * @module
 */
import { healthSuffix } from "../engine/container_record.ts";
import { type PortFields, psPorts } from "../engine/container_ports.ts";
import { UsageError } from "../errors.ts";
import {
  ContainerReader,
  type ContainerRecord,
  containerSize,
  Engine,
  familiarTags,
  type ImageRecord,
} from "../engine/read.ts";
import { bool, type Command, int, list, str } from "./_command.ts";
import { goQuote, goTime, labelHeader, printRows } from "./_format.ts";
import { humanDuration, humanSize, sinceTime } from "./_units.ts";

/** Docker's STATUS column. */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.State;
  const ago = (t: string) => humanDuration(now - Date.parse(t));
  if (s.Status === "running") return `Up ${ago(s.StartedAt)}${healthSuffix(s)}`;
  if (s.Status === "paused") return `Up ${ago(s.StartedAt)} (Paused)`;
  if (s.Status === "restarting") return `Restarting (${s.ExitCode}) ${ago(s.FinishedAt)} ago`;
  if (s.Status === "exited") return `Exited (${s.ExitCode}) ${ago(s.FinishedAt)} ago`;
  if (s.Status === "dead") return "Dead";
  return "Created";
}

/**
 * Docker's COMMAND: the daemon joins the path and the arguments, each argument
 * with a space in single quotes; the CLI cuts it to 20 characters (unless
 * `--no-trunc`) and prints it as Go's `strconv.Quote`.
 */
export function commandText(c: ContainerRecord, noTrunc: boolean): string {
  const args = c.Args.map((a) => a.includes(" ") ? `'${a}'` : a);
  const cmd = [c.Path, ...args].join(" ");
  return goQuote(noTrunc ? cmd : ellipsis(cmd, 20));
}

/** Docker's `Ellipsis`: at most `width` characters, the last one `…` when cut. */
function ellipsis(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join("")}…`;
}

/** A row's `.Label "KEY"`: the label's value, empty when it has none (Docker's formatter). */
function labelMethod(labels: Record<string, string>): (key: unknown) => string {
  return (key) => labels[String(key)] ?? "";
}

/** Docker's SIZE: `SizeRw`, and `(virtual SizeRootFs)` when that is known. */
export function sizeText(size: { SizeRw: number; SizeRootFs: number }): string {
  const rw = humanSize(size.SizeRw);
  return size.SizeRootFs > 0 ? `${rw} (virtual ${humanSize(size.SizeRootFs)})` : rw;
}

interface Filter {
  key: string;
  value: string;
}

function matches(
  c: ContainerRecord,
  filters: Filter[],
  imageIds: (name: string) => string | undefined,
): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f.value]);
  for (const [key, values] of byKey) {
    const ok = values.some((v) => {
      switch (key) {
        case "status":
          return c.State.Status === v;
        case "name":
          // As docker: the name with its leading "/" (`name=^/web$`) or without (`name=^web$`).
          return new RegExp(v).test(c.Name) || new RegExp(v).test(c.Name.slice(1));
        case "id":
          return c.Id.startsWith(v);
        case "label": {
          const eq = v.indexOf("=");
          const k = eq < 0 ? v : v.slice(0, eq);
          return k in c.Config.Labels && (eq < 0 || c.Config.Labels[k] === v.slice(eq + 1));
        }
        case "ancestor":
          return c.Config.Image === v || c.Image === imageIds(v) || c.Image.slice(7).startsWith(v);
        case "exited":
          return c.State.Status === "exited" && String(c.State.ExitCode) === v;
        default:
          throw new UsageError(`Invalid filter '${key}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

/** `ps [OPTIONS]` */
export const ps: Command = {
  usage: "[OPTIONS]",
  summary: "List containers",
  args: { max: 0 },
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Show all containers (default shows just running)",
    },
    {
      name: "filter",
      short: "f",
      type: "list",
      value: "filter",
      description: "Filter output based on conditions provided",
    },
    {
      name: "format",
      type: "string",
      value: "string",
      description:
        "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template",
    },
    {
      name: "last",
      short: "n",
      type: "int",
      value: "int",
      description: "Show n last created containers (includes all states)",
      default: -1,
    },
    {
      name: "latest",
      short: "l",
      type: "bool",
      description: "Show the latest created container (includes all states)",
    },
    { name: "no-trunc", type: "bool", description: "Don't truncate output" },
    { name: "quiet", short: "q", type: "bool", description: "Only display container IDs" },
    { name: "size", short: "s", type: "bool", description: "Display total file sizes" },
  ],
  async run(ctx, flags) {
    const filters = list(flags, "filter").map((f) => {
      const eq = f.indexOf("=");
      if (eq < 0) throw new UsageError(`Bad format of filter (expected name=value): ${f}`);
      return { key: f.slice(0, eq), value: f.slice(eq + 1) };
    });
    const engine = Engine.open(ctx.root, { reading: true });
    const imageIds = (name: string) => {
      try {
        return engine.image(name).id;
      } catch {
        return undefined;
      }
    };
    const reader = new ContainerReader(engine.store, { self: ctx.self, runRoot: ctx.runRoot });
    // Newest first. Created is an ISO time of fixed width: plain string order is time order
    // (localeCompare would first build an ICU collator: ~9 ms).
    let containers = (await reader.list()).sort((a, b) =>
      a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0
    );
    const last = bool(flags, "latest") ? 1 : int(flags, "last") ?? -1;
    const all = bool(flags, "all") || last > 0 ||
      filters.some((f) => f.key === "status" || f.key === "exited");
    if (!all) containers = containers.filter((c) => c.State.Running || c.State.Restarting);
    containers = containers.filter((c) => matches(c, filters, imageIds));
    if (last > 0) containers = containers.slice(0, last);
    const noTrunc = bool(flags, "no-trunc");
    if (bool(flags, "quiet")) {
      for (const c of containers) ctx.print(`${noTrunc ? c.Id : c.Id.slice(0, 12)}\n`);
      return 0;
    }
    const now = Date.now();
    // Read only when a container lacks the name it was created from.
    let images: ImageRecord[] | undefined;
    const imageName = (c: ContainerRecord) => {
      if (c.Config.Image) return c.Config.Image;
      images ??= engine.listImages();
      const image = images.find((i) => i.id === c.Image);
      return (image ? familiarTags(image)[0] : undefined) || c.Image.slice(7, 19);
    };
    const format = str(flags, "format");
    // Docker computes sizes for -s, or a template that shows them.
    const sized = bool(flags, "size") || (format ?? "").includes(".Size");
    const rows = containers.map((c) => {
      const labels = c.Config.Labels ?? {};
      const row = {
        ID: noTrunc ? c.Id : c.Id.slice(0, 12),
        Image: imageName(c),
        Command: commandText(c, noTrunc),
        CreatedAt: goTime(c.Created),
        RunningFor: sinceTime(c.Created, now),
        Status: statusText(c, now),
        State: c.State.Status,
        Ports: psPorts((c as unknown as PortFields).NetworkSettings?.Ports),
        Names: c.Name.slice(1),
        // Docker joins them in Go's map order (random); berth in key order.
        Labels: Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(","),
        LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === "volume").length),
        Mounts: (c.Mounts ?? []).map((m) => {
          const name = m.Name ?? m.Source;
          return noTrunc ? name : ellipsis(name, 15);
        }).join(","),
        Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(",") ||
          c.HostConfig.NetworkMode,
        Size: sized ? sizeText(containerSize(reader, c)) : "0B",
      };
      // A method, as Docker's formatter has: callable from a template, absent from `json`.
      return Object.defineProperty(row, "Label", { value: labelMethod(labels) });
    });
    await printRows(ctx, rows, {
      format,
      columns: [
        { header: "CONTAINER ID", field: "ID" },
        { header: "IMAGE", field: "Image" },
        { header: "COMMAND", field: "Command" },
        { header: "CREATED", field: "RunningFor" },
        { header: "STATUS", field: "Status" },
        { header: "PORTS", field: "Ports" },
        { header: "NAMES", field: "Names" },
        ...(bool(flags, "size") ? [{ header: "SIZE", field: "Size" }] : []),
      ],
      headers: {
        CreatedAt: "CREATED AT",
        State: "STATE",
        Labels: "LABELS",
        Label: labelHeader,
        LocalVolumes: "LOCAL VOLUMES",
        Mounts: "MOUNTS",
        Networks: "NETWORKS",
        Size: "SIZE",
      },
    });
    return 0;
  },
};
