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
  Engine,
  initialSettings,
  seccompProfileOf,
} from "../engine/read.ts";
import { type Command, type Context, str } from "./_command.ts";
import { INSPECT_FLAGS, printInspect } from "./_format.ts";

const FLAGS = INSPECT_FLAGS;

/** Docker's inspect object for a container. */
export function containerInspect(
  record: ContainerRecord,
  dir: string,
  layers: string[],
): Record<string, unknown> {
  const {
    Layers: _layers,
    Monitor: _monitor,
    StoppedByUser: _stopped,
    Mounts: mounts,
    Net: _net,
    NetworkSettings: network,
    ...rest
  } = record;
  return {
    ...rest,
    ResolvConfPath: `${dir}/resolv.conf`,
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    LogPath: containerLogPath(dir, record.Id),
    Driver: "overlay",
    Platform: "linux",
    GraphDriver: {
      Name: "overlay",
      Data: {
        LowerDir: layers.join(":"),
        UpperDir: `${dir}/upper`,
        WorkDir: `${dir}/work`,
        MergedDir: `${dir}/bundle/rootfs`,
      },
    },
    Mounts: (mounts ?? []).map(({ Anonymous: _anonymous, ...point }) => point),
    NetworkSettings: network ?? initialSettings(record.HostConfig.NetworkMode),
    // Docker shows AppArmorProfile here; berth has no AppArmor, and says which seccomp profile applies.
    SeccompProfile: seccompProfileOf(record),
  };
}

/** The inspect object of a container, or undefined when there is none by that name. */
export async function inspectContainer(
  reader: Pick<ContainerReader, "get" | "store" | "records">,
  name: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const record = await reader.get(name);
    const layers = record.Layers.slice().reverse().map((c) =>
      reader.store.layers.diffPath(c as `sha256:${string}`)
    );
    return containerInspect(record, reader.records.path(record.Id), layers);
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
      out.push(engine.inspectImage(engine.image(name)));
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
        const container = await inspectContainer(reader, name);
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
  flags: FLAGS,
  async run(ctx, flags, args) {
    const reader = containerReader(ctx, Engine.open(ctx.root, { reading: true }));
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const name of args) {
      const container = await inspectContainer(reader, name);
      if (container === undefined) missing.push(name);
      else found.push(container);
    }
    await printInspect(ctx, found, str(flags, "format"));
    if (missing.length > 0) throw new NotFoundError(`No such container: ${missing.join(", ")}`);
    return 0;
  },
};
