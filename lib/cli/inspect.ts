/**
 * `berth inspect`, `berth image inspect` and `berth container inspect`:
 * Docker's JSON for each object, or `--format` applied to each. They read
 * through the engine's read side only (no runtime or monitor module).
 *
 * @module
 */
import { InvalidError, NotFoundError, UsageError } from "../errors.ts";
import {
  containerLogPath,
  ContainerReader,
  type ContainerRecord,
  containerSize,
  Engine,
  initialSettings,
  seccompProfileOf,
} from "../engine/read.ts";
import { bool, type Command, type Context, str } from "./_command.ts";
import { GO_STRING, INSPECT_FLAGS, printInspect } from "./_format.ts";

const FLAGS = INSPECT_FLAGS;

/** `-s`: container inspect's sizes. */
const SIZE_FLAG = {
  name: "size",
  short: "s",
  type: "bool",
  description: "Display total file sizes if the type is container",
} as const;

/**
 * HostConfig keys Docker shows (dockerd 20.10, 65 of them), in its order, with
 * the value each has when nothing asks for it. A record's own value wins; a
 * key berth has no such feature for keeps Docker's zero value.
 */
const HOST_CONFIG_DEFAULTS: Readonly<Record<string, unknown>> = {
  Binds: null,
  ContainerIDFile: "",
  LogConfig: { Type: "json-file", Config: {} },
  NetworkMode: "default",
  PortBindings: {},
  RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
  AutoRemove: false,
  VolumeDriver: "",
  VolumesFrom: null,
  CapAdd: null,
  CapDrop: null,
  // berth gives every container its own cgroup namespace.
  CgroupnsMode: "private",
  Dns: [],
  DnsOptions: [],
  DnsSearch: [],
  ExtraHosts: null,
  GroupAdd: null,
  IpcMode: "private",
  Cgroup: "",
  Links: null,
  OomScoreAdj: 0,
  PidMode: "",
  Privileged: false,
  PublishAllPorts: false,
  ReadonlyRootfs: false,
  SecurityOpt: null,
  UTSMode: "",
  UsernsMode: "",
  // The /dev/shm of berth's default spec: 64 MiB, as Docker's.
  ShmSize: 67108864,
  Runtime: "berth",
  ConsoleSize: [0, 0],
  Isolation: "",
  CpuShares: 0,
  Memory: 0,
  NanoCpus: 0,
  CgroupParent: "",
  BlkioWeight: 0,
  BlkioWeightDevice: [],
  BlkioDeviceReadBps: [],
  BlkioDeviceWriteBps: [],
  BlkioDeviceReadIOps: [],
  BlkioDeviceWriteIOps: [],
  CpuPeriod: 0,
  CpuQuota: 0,
  CpuRealtimePeriod: 0,
  CpuRealtimeRuntime: 0,
  CpusetCpus: "",
  CpusetMems: "",
  Devices: [],
  DeviceCgroupRules: null,
  DeviceRequests: null,
  KernelMemory: 0,
  KernelMemoryTCP: 0,
  MemoryReservation: 0,
  MemorySwap: 0,
  MemorySwappiness: null,
  OomKillDisable: false,
  PidsLimit: null,
  Ulimits: [],
  CpuCount: 0,
  CpuPercent: 0,
  IOMaximumIOps: 0,
  IOMaximumBandwidth: 0,
  MaskedPaths: null,
  ReadonlyPaths: null,
};

/** NetworkSettings keys Docker shows, with their zero values. */
const NETWORK_DEFAULTS: Readonly<Record<string, unknown>> = {
  Bridge: "",
  SandboxID: "",
  HairpinMode: false,
  LinkLocalIPv6Address: "",
  LinkLocalIPv6PrefixLen: 0,
  Ports: {},
  SandboxKey: "",
  SecondaryIPAddresses: null,
  SecondaryIPv6Addresses: null,
  EndpointID: "",
  Gateway: "",
  GlobalIPv6Address: "",
  GlobalIPv6PrefixLen: 0,
  IPAddress: "",
  IPPrefixLen: 0,
  IPv6Gateway: "",
  MacAddress: "",
  Networks: {},
};

/** One network's entry (`NetworkSettings.Networks[NAME]`), Docker's keys and zero values. */
const ENDPOINT_DEFAULTS: Readonly<Record<string, unknown>> = {
  IPAMConfig: null,
  Links: null,
  Aliases: null,
  NetworkID: "",
  EndpointID: "",
  Gateway: "",
  IPAddress: "",
  IPPrefixLen: 0,
  IPv6Gateway: "",
  GlobalIPv6Address: "",
  GlobalIPv6PrefixLen: 0,
  MacAddress: "",
  DriverOpts: null,
};

/**
 * Docker's keys in Docker's order, each the given value or the default,
 * then the keys only berth has. An undefined value counts as absent.
 */
function withDefaults(
  defaults: Readonly<Record<string, unknown>>,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(defaults)) out[key] = given[key] ?? value;
  for (const [key, value] of Object.entries(given)) {
    if (!(key in out) && value !== undefined) out[key] = value;
  }
  return out;
}

/** `HostConfig.Ulimits`, printing in a template as Docker's `[nofile=1024:1024]`. */
function ulimitsView(ulimits: unknown): unknown {
  if (!Array.isArray(ulimits)) return ulimits;
  return ulimits.map((u: { Name: string; Soft: number; Hard: number }) =>
    Object.defineProperty({ Name: u.Name, Hard: u.Hard, Soft: u.Soft }, GO_STRING, {
      value: () => `${u.Name}=${u.Soft}:${u.Hard}`,
    })
  );
}

/** Adds `ID`, which Docker's templates also accept, without showing it in the JSON. */
export function withIdAlias<T extends Record<string, unknown>>(object: T): T {
  return Object.defineProperty(object, "ID", { value: object.Id, enumerable: false });
}

/** The spec's masked and read-only paths, as Docker keeps them in HostConfig. */
function specPaths(dir: string): { MaskedPaths?: string[]; ReadonlyPaths?: string[] } {
  try {
    const spec = JSON.parse(Deno.readTextFileSync(`${dir}/bundle/config.json`));
    const masked = spec?.linux?.maskedPaths;
    const readonly = spec?.linux?.readonlyPaths;
    return {
      ...(Array.isArray(masked) && masked.length > 0 ? { MaskedPaths: masked } : {}),
      ...(Array.isArray(readonly) && readonly.length > 0 ? { ReadonlyPaths: readonly } : {}),
    };
  } catch {
    return {};
  }
}

/** Container sizes, as `inspect -s` and `ps -s` show them. */
export interface ContainerSize {
  SizeRw: number;
  SizeRootFs: number;
}

/** Config with ExposedPorts where Docker puts it (after AttachStderr), left out when empty. */
function configView(config: Record<string, unknown>, exposed: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const some = typeof exposed === "object" && exposed !== null && Object.keys(exposed).length > 0;
  for (const [key, value] of Object.entries(config)) {
    out[key] = value;
    if (key === "AttachStderr" && some) out.ExposedPorts = exposed;
  }
  if (some && !("ExposedPorts" in out)) out.ExposedPorts = exposed;
  return out;
}

/** Docker's inspect object for a container. */
export function containerInspect(
  record: ContainerRecord,
  dir: string,
  layers: string[],
  size?: ContainerSize,
): Record<string, unknown> {
  const {
    Id,
    Created,
    Path,
    Args,
    State,
    Image,
    Name,
    RestartCount,
    Config: config,
    HostConfig: hostConfig,
    Layers: _layers,
    Monitor: _monitor,
    StoppedByUser: _stopped,
    Mounts: mounts,
    Net: _net,
    NetworkSettings: network,
    ...rest
  } = record;
  const { Init, ...host } = hostConfig as unknown as Record<string, unknown>;
  const { ExposedPorts, ...configRest } = config as unknown as Record<string, unknown>;
  const settings = (network ?? initialSettings(record.HostConfig.NetworkMode)) as unknown as Record<
    string,
    unknown
  >;
  const networks: Record<string, unknown> = {};
  for (const [name, endpoint] of Object.entries(settings.Networks ?? {})) {
    networks[name] = withDefaults(ENDPOINT_DEFAULTS, endpoint as Record<string, unknown>);
  }
  const hostView = withDefaults(HOST_CONFIG_DEFAULTS, {
    ...(record.HostConfig.Privileged ? {} : specPaths(dir)),
    ...host,
    // Docker shows Init only when --init or --init=false was given.
    ...(Init === null || Init === undefined ? {} : { Init }),
  });
  hostView.Ulimits = ulimitsView(hostView.Ulimits);
  return withIdAlias({
    Id,
    Created,
    Path,
    Args,
    State,
    Image,
    ResolvConfPath: `${dir}/resolv.conf`,
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    LogPath: containerLogPath(dir, record.Id),
    Name,
    RestartCount,
    Driver: "overlay",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    // berth has no AppArmor (SeccompProfile below says which seccomp profile applies).
    AppArmorProfile: "",
    // An exec's record lasts only while it runs; berth keeps none.
    ExecIDs: null,
    HostConfig: hostView,
    GraphDriver: {
      Data: {
        LowerDir: layers.join(":"),
        MergedDir: `${dir}/bundle/rootfs`,
        UpperDir: `${dir}/upper`,
        WorkDir: `${dir}/work`,
      },
      Name: "overlay",
    },
    ...(size === undefined ? {} : size),
    Mounts: (mounts ?? []).map(({ Anonymous: _anonymous, ...point }) => point),
    Config: configView(configRest, ExposedPorts),
    NetworkSettings: { ...withDefaults(NETWORK_DEFAULTS, settings), Networks: networks },
    ...rest,
    SeccompProfile: seccompProfileOf(record),
  });
}

/** The inspect object of a container, or undefined when there is none by that name. */
export async function inspectContainer(
  reader: Pick<ContainerReader, "get" | "store" | "records">,
  name: string,
  sized = false,
): Promise<Record<string, unknown> | undefined> {
  try {
    const record = await reader.get(name);
    const layers = record.Layers.slice().reverse().map((c) =>
      reader.store.layers.diffPath(c as `sha256:${string}`)
    );
    const size = sized ? containerSize(reader, record) : undefined;
    return containerInspect(record, reader.records.path(record.Id), layers, size);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** A context's container reader. */
function containerReader(ctx: Context, engine: Engine): ContainerReader {
  return new ContainerReader(engine.store, { self: ctx.self, runRoot: ctx.runRoot });
}

/**
 * Inspects every name; prints what was found, then fails on the first that was
 * not (Docker prints the found ones and exits 1 with `Error: No such object`).
 */
function inspectImages(engine: Engine, names: string[], errors: string[]): unknown[] {
  const out: unknown[] = [];
  for (const name of names) {
    try {
      out.push(withIdAlias(engine.inspectImage(engine.image(name))));
    } catch (error) {
      if (!(error instanceof NotFoundError || error instanceof InvalidError)) throw error;
      errors.push(name);
    }
  }
  return out;
}

/** `image inspect [OPTIONS] IMAGE [IMAGE...]` */
export const imageInspect: Command = {
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  summary: "Display detailed information on one or more images",
  args: { min: 1 },
  flags: FLAGS,
  async run(ctx, flags, args) {
    const missing: string[] = [];
    const found = inspectImages(Engine.open(ctx.root, { reading: true }), args, missing);
    await printInspect(ctx, found, str(flags, "format"));
    if (missing.length > 0) throw new NotFoundError(`No such image: ${missing.join(", ")}`);
    return 0;
  },
};

/** `inspect [OPTIONS] NAME|ID [NAME|ID...]`: containers first, then images, as Docker. */
export const inspect: Command = {
  usage: "[OPTIONS] NAME|ID [NAME|ID...]",
  summary: "Return low-level information on berth objects",
  args: { min: 1 },
  flags: [
    ...FLAGS,
    SIZE_FLAG,
    {
      name: "type",
      type: "string",
      value: "string",
      description: "Return JSON for specified type (container or image)",
    },
  ],
  async run(ctx, flags, args) {
    const type = str(flags, "type");
    if (type !== undefined && type !== "image" && type !== "container") {
      throw new UsageError(`"${type}" is not a valid value for --type`);
    }
    const engine = Engine.open(ctx.root, { reading: true });
    const reader = containerReader(ctx, engine);
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const name of args) {
      if (type !== "image") {
        const container = await inspectContainer(reader, name, bool(flags, "size"));
        if (container !== undefined) {
          found.push(container);
          continue;
        }
      }
      const image = type === "container" ? [] : inspectImages(engine, [name], []);
      if (image.length === 1) found.push(image[0]);
      else missing.push(name);
    }
    await printInspect(ctx, found, str(flags, "format"));
    if (missing.length > 0) throw new NotFoundError(`No such object: ${missing.join(", ")}`);
    return 0;
  },
};

/** `container inspect [OPTIONS] CONTAINER [CONTAINER...]` */
export const containerInspectCmd: Command = {
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Display detailed information on one or more containers",
  args: { min: 1 },
  flags: [...FLAGS, SIZE_FLAG],
  async run(ctx, flags, args) {
    const reader = containerReader(ctx, Engine.open(ctx.root, { reading: true }));
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const name of args) {
      const container = await inspectContainer(reader, name, bool(flags, "size"));
      if (container === undefined) missing.push(name);
      else found.push(container);
    }
    await printInspect(ctx, found, str(flags, "format"));
    if (missing.length > 0) throw new NotFoundError(`No such container: ${missing.join(", ")}`);
    return 0;
  },
};
