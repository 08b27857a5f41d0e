/**
 * `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`: the host ports a running
 * container's ports are published on, as Docker prints them.
 *
 * @module
 */
import { NotFoundError } from "../errors.ts";
import { type PortFields, portLines } from "../engine/container_ports.ts";
import { ContainerReader, Engine } from "../engine/read.ts";
import type { Command } from "./_command.ts";

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]` */
export const port: Command = {
  usage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
  summary: "List port mappings or a specific mapping for the container",
  args: { min: 1, max: 2 },
  flags: [],
  async run(ctx, _flags, args) {
    const reader = new ContainerReader(Engine.open(ctx.root).store, {
      self: ctx.self,
      runRoot: ctx.runRoot,
    });
    const record = await reader.get(args[0]!) as unknown as PortFields;
    const ports = record.NetworkSettings?.Ports;
    if (args.length === 1) {
      for (const line of portLines(ports)) ctx.print(`${line}\n`);
      return 0;
    }
    const wanted = args[1]!.includes("/") ? args[1]! : `${args[1]}/tcp`;
    const lines = portLines(ports, wanted);
    if (lines.length === 0) {
      throw new NotFoundError(`No public port '${wanted}' published for ${args[0]}`);
    }
    for (const line of lines) ctx.print(`${line}\n`);
    return 0;
  },
};
