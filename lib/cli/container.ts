/**
 * `berth container ...` commands that have no top-level twin: `container
 * prune` and `container inspect` (the hidden monitor mode is in _monitor.ts).
 *
 * @module
 */
import { bool, type Command, str } from "./_command.ts";
import { confirm } from "./_confirm.ts";
import { printInspect } from "./_format.ts";
import { containerService } from "./_service.ts";
import { NotFoundError } from "../errors.ts";
import { type ContainerRecord, type ContainerService, seccompProfileOf } from "../engine/mod.ts";

/** Docker's inspect object for a container. */
export function containerInspect(
  record: ContainerRecord,
  dir: string,
  layers: string[],
): Record<string, unknown> {
  const { Layers: _layers, Monitor: _monitor, StoppedByUser: _stopped, ...rest } = record;
  return {
    ...rest,
    ResolvConfPath: `${dir}/resolv.conf`,
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    LogPath: `${dir}/${record.Id}-json.log`,
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
    Mounts: [],
    // Docker shows AppArmorProfile here; berth has no AppArmor, and says which seccomp profile applies.
    SeccompProfile: seccompProfileOf(record),
  };
}

/** The inspect object of a container, or undefined when there is none by that name. */
export async function inspectContainer(
  service: ContainerService,
  name: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const record = await service.get(name);
    const layers = record.Layers.slice().reverse().map((c) =>
      service.store.layers.diffPath(c as `sha256:${string}`)
    );
    return containerInspect(record, service.records.path(record.Id), layers);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** `container inspect [OPTIONS] CONTAINER [CONTAINER...]` */
export const containerInspectCmd: Command = {
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Display detailed information on one or more containers",
  args: { min: 1 },
  flags: [{
    name: "format",
    short: "f",
    type: "string",
    value: "string",
    description: "Format output using a custom template",
  }],
  async run(ctx, flags, args) {
    const service = containerService(ctx);
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const name of args) {
      const container = await inspectContainer(service, name);
      if (container === undefined) missing.push(name);
      else found.push(container);
    }
    printInspect(ctx, found, str(flags, "format"));
    if (missing.length > 0) throw new NotFoundError(`No such container: ${missing.join(", ")}`);
    return 0;
  },
};

/** `container prune [OPTIONS]` */
export const containerPrune: Command = {
  usage: "[OPTIONS]",
  summary: "Remove all stopped containers",
  args: { max: 0 },
  flags: [{
    name: "force",
    short: "f",
    type: "bool",
    description: "Do not prompt for confirmation",
  }],
  async run(ctx, flags) {
    if (
      !bool(flags, "force") &&
      !(await confirm(ctx, "WARNING! This will remove all stopped containers."))
    ) return 0;
    const service = containerService(ctx);
    const stopped = (await service.list()).filter((c) => !c.State.Running && !c.State.Restarting);
    if (stopped.length > 0) ctx.print("Deleted Containers:\n");
    for (const c of stopped) {
      await service.remove(c.Id);
      ctx.print(`${c.Id}\n`);
    }
    ctx.print(`${stopped.length > 0 ? "\n" : ""}Total reclaimed space: 0B\n`);
    return 0;
  },
};
