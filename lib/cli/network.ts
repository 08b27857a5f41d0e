/**
 * `berth network create|ls|inspect|rm|prune|connect|disconnect`: Docker's
 * network commands over the engine's {@linkcode NetworkStore}, and the
 * links of containers joining and leaving networks.
 *
 * @module
 */
import { NotFoundError, UsageError } from "../errors.ts";
import { Engine } from "../engine/read.ts";
import {
  inspectView,
  isPredefined,
  type NetworkRecord,
  NetworkStore,
} from "../engine/networks/mod.ts";
import { bool, type Command, type Context, list, str } from "./_command.ts";
import { confirm } from "./_confirm.ts";
import { forEachName } from "./_each.ts";
import { type Filter, hasLabel, keyValues, parseFilters } from "./_filters.ts";
import { INSPECT_FLAGS, inspectEach, printRows } from "./_format.ts";

/** Network filters: `type` is custom or builtin, `dangling` a boolean. */
function checkFilter(filter: Filter): void {
  if (filter.key === "type" && !["custom", "builtin"].includes(filter.value)) {
    throw new UsageError(`invalid filter: 'type'='${filter.value}'`);
  }
  if (filter.key === "dangling" && !["true", "false", "1", "0"].includes(filter.value)) {
    throw new UsageError(`invalid filter 'dangling=${filter.value}'`);
  }
}

/** Docker's match for `name` and `id`: the exact value, or a regular expression that matches. */
function fuzzy(pattern: string, value: string): boolean {
  if (pattern === value) return true;
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return false;
  }
}

/** Docker's network filters: values of one key are ORed, keys ANDed. */
function matches(n: NetworkRecord, filters: readonly Filter[]): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f.value]);
  for (const [key, values] of byKey) {
    const ok = key === "label!" ? values.every((x) => !hasLabel(n.Labels, x)) : values.some((x) => {
      switch (key) {
        case "name":
          return fuzzy(x, n.Name);
        case "id":
          return fuzzy(x, n.Id);
        case "driver":
          return n.Driver === x;
        case "scope":
          return n.Scope === x;
        case "type":
          return (x === "builtin") === isPredefined(n.Name);
        case "dangling":
          return (x === "true" || x === "1") ===
            (!isPredefined(n.Name) && Object.keys(n.Containers).length === 0);
        default: // label
          return hasLabel(n.Labels, x);
      }
    });
    if (!ok) return false;
  }
  return true;
}

const networks = (engine: Engine) => new NetworkStore(engine.store.root, engine.store.tmpDir);

/** `network create [OPTIONS] NETWORK` */
export const networkCreate: Command = {
  usage: "[OPTIONS] NETWORK",
  summary: "Create a network",
  args: { min: 1, max: 1 },
  flags: [
    {
      name: "driver",
      short: "d",
      type: "string",
      value: "string",
      description: "Driver to manage the Network",
      default: "bridge",
    },
    {
      name: "subnet",
      type: "list",
      value: "strings",
      description: "Subnet in CIDR format that represents a network segment",
    },
    {
      name: "gateway",
      type: "list",
      value: "strings",
      description: "IPv4 Gateway for the master subnet",
    },
    {
      name: "ip-range",
      type: "list",
      value: "strings",
      description: "Allocate container ip from a sub-range",
    },
    {
      name: "internal",
      type: "bool",
      description: "Restrict external access to the network",
    },
    { name: "attachable", type: "bool", description: "Enable manual container attachment" },
    { name: "ipv6", type: "bool", description: "Enable IPv6 networking" },
    {
      name: "ipam-driver",
      type: "string",
      value: "string",
      description: "IP Address Management Driver",
      default: "default",
    },
    { name: "label", type: "list", value: "list", description: "Set metadata on a network" },
    {
      name: "opt",
      short: "o",
      type: "list",
      value: "map",
      description: "Set driver specific options",
    },
  ],
  async run(ctx, flags, args) {
    const driver = str(flags, "driver");
    const ipamDriver = str(flags, "ipam-driver");
    const record = await networks(Engine.open(ctx.root)).create(args[0]!, {
      ...(driver === undefined ? {} : { driver }),
      ...(ipamDriver === undefined ? {} : { ipamDriver }),
      subnets: list(flags, "subnet"),
      gateways: list(flags, "gateway"),
      ipRanges: list(flags, "ip-range"),
      internal: bool(flags, "internal"),
      attachable: bool(flags, "attachable"),
      ipv6: bool(flags, "ipv6"),
      labels: keyValues(list(flags, "label")),
      options: keyValues(list(flags, "opt")),
    });
    ctx.print(`${record.Id}\n`);
    return 0;
  },
};

/** `network ls [OPTIONS]` */
export const networkLs: Command = {
  usage: "[OPTIONS]",
  summary: "List networks",
  args: { max: 0 },
  flags: [
    {
      name: "filter",
      short: "f",
      type: "list",
      value: "filter",
      description: "Provide filter values (e.g. 'driver=bridge')",
    },
    {
      name: "format",
      type: "string",
      value: "string",
      description:
        "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template",
    },
    { name: "no-trunc", type: "bool", description: "Do not truncate the output" },
    { name: "quiet", short: "q", type: "bool", description: "Only display network IDs" },
  ],
  async run(ctx, flags) {
    const filters = parseFilters(list(flags, "filter"), [
      "name",
      "id",
      "label",
      "label!",
      "driver",
      "scope",
      "type",
      "dangling",
    ], checkFilter);
    const found = (await networks(Engine.open(ctx.root)).list()).filter((n) => matches(n, filters));
    const id = (n: NetworkRecord) => bool(flags, "no-trunc") ? n.Id : n.Id.slice(0, 12);
    if (bool(flags, "quiet")) {
      for (const n of found) ctx.print(`${id(n)}\n`);
      return 0;
    }
    const rows = found.map((n) => ({
      ID: id(n),
      Name: n.Name,
      Driver: n.Driver,
      Scope: n.Scope,
      IPv6: String(n.EnableIPv6),
      Internal: String(n.Internal),
      Labels: Object.entries(n.Labels).map(([k, v]) => `${k}=${v}`).join(","),
      CreatedAt: goCreated(n.Created),
    }));
    await printRows(ctx, rows, {
      format: str(flags, "format"),
      columns: [
        { header: "NETWORK ID", field: "ID" },
        { header: "NAME", field: "Name" },
        { header: "DRIVER", field: "Driver" },
        { header: "SCOPE", field: "Scope" },
      ],
      headers: {
        IPv6: "IPV6",
        Internal: "INTERNAL",
        Labels: "LABELS",
        CreatedAt: "CREATED AT",
      },
    });
    return 0;
  },
};

/** Go's `time.Time.String()` of a creation time, as `network ls --format {{.CreatedAt}}` prints it. */
function goCreated(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const frac = iso.match(/\.(\d+)Z$/)?.[1]?.replace(/0+$/, "") ?? "";
  return `${d.toISOString().slice(0, 19).replace("T", " ")}${
    frac === "" ? "" : `.${frac}`
  } +0000 UTC`;
}

/** `network inspect [OPTIONS] NETWORK [NETWORK...]` */
export const networkInspect: Command = {
  usage: "[OPTIONS] NETWORK [NETWORK...]",
  summary: "Display detailed information on one or more networks",
  args: { min: 1 },
  flags: [
    ...INSPECT_FLAGS,
    { name: "verbose", short: "v", type: "bool", description: "Verbose output for diagnostics" },
  ],
  async run(ctx, flags, args) {
    const store = networks(Engine.open(ctx.root));
    await inspectEach(
      ctx,
      args,
      async (ref) => inspectView(await store.get(ref)),
      "network",
      str(flags, "format"),
    );
    return 0;
  },
};

/** A removed network's bridge goes and berth's nftables table is rebuilt without it. */
async function removeLinks(engine: Engine, removed: NetworkRecord[]): Promise<void> {
  // Loaded here: the other network commands need no netlink code.
  const { removeNetworkLinks } = await import("../engine/container_network.ts");
  const { ContainerStore } = await import("../engine/container_record.ts");
  await removeNetworkLinks(new ContainerStore(engine.store.root, engine.store.tmpDir), removed);
}

/** `network rm NETWORK [NETWORK...]` */
export const networkRm: Command = {
  usage: "[OPTIONS] NETWORK [NETWORK...]",
  summary: "Remove one or more networks",
  args: { min: 1 },
  flags: [{
    name: "force",
    short: "f",
    type: "bool",
    description: "Do not error if the network does not exist",
  }],
  async run(ctx, flags, args) {
    const engine = Engine.open(ctx.root);
    const store = networks(engine);
    const force = bool(flags, "force");
    const removed: NetworkRecord[] = [];
    const code = await forEachName(
      ctx,
      args,
      async (ref) => {
        removed.push(await store.remove(ref));
      },
      (error) => force && error instanceof NotFoundError,
    );
    if (removed.length > 0) await removeLinks(engine, removed);
    return code;
  },
};

/** `network prune [OPTIONS]` */
export const networkPrune: Command = {
  usage: "[OPTIONS]",
  summary: "Remove all unused networks",
  args: { max: 0 },
  flags: [
    {
      name: "filter",
      type: "list",
      value: "filter",
      description: "Provide filter values (e.g. 'label=<key>=<value>')",
    },
    { name: "force", short: "f", type: "bool", description: "Do not prompt for confirmation" },
  ],
  async run(ctx: Context, flags) {
    const filters = parseFilters(list(flags, "filter"), ["label", "label!"], checkFilter);
    const warning =
      "WARNING! This will remove all custom networks not used by at least one container.";
    if (!bool(flags, "force") && !(await confirm(ctx, warning))) return 0;
    const engine = Engine.open(ctx.root);
    const gone = await networks(engine).prune((n) => !matches(n, filters));
    if (gone.length > 0) await removeLinks(engine, gone);
    if (gone.length > 0) {
      ctx.print(`Deleted Networks:\n${gone.map((n) => `${n.Name}\n`).join("")}\n`);
    }
    return 0;
  },
};

/** `network connect [OPTIONS] NETWORK CONTAINER` */
export const networkConnect: Command = {
  usage: "[OPTIONS] NETWORK CONTAINER",
  summary: "Connect a container to a network",
  args: { min: 2, max: 2 },
  flags: [
    {
      name: "ip",
      type: "string",
      value: "string",
      description: 'IPv4 address (e.g., "172.30.100.104")',
    },
    {
      name: "alias",
      type: "list",
      value: "strings",
      description: "Add network-scoped alias for the container",
    },
  ],
  async run(ctx, flags, args) {
    // Loaded here: the other network commands need no container or netlink code.
    const { connectContainer } = await import("../engine/container_network.ts");
    const { containerService } = await import("./_service.ts");
    const service = containerService(ctx);
    const record = await service.get(args[1]!);
    const ip = str(flags, "ip");
    await connectContainer(service.records, record.Id, args[0]!, {
      ...(ip !== undefined ? { ip } : {}),
      aliases: list(flags, "alias"),
    });
    return 0;
  },
};

/** `network disconnect [OPTIONS] NETWORK CONTAINER` */
export const networkDisconnect: Command = {
  usage: "[OPTIONS] NETWORK CONTAINER",
  summary: "Disconnect a container from a network",
  args: { min: 2, max: 2 },
  flags: [{
    name: "force",
    short: "f",
    type: "bool",
    description: "Force the container to disconnect from a network",
  }],
  async run(ctx, flags, args) {
    const { disconnectContainer } = await import("../engine/container_network.ts");
    const { containerService } = await import("./_service.ts");
    const service = containerService(ctx);
    const record = await service.get(args[1]!);
    await disconnectContainer(service.records, record.Id, args[0]!, bool(flags, "force"));
    return 0;
  },
};
