/**
 * `berth update`: new memory, CPU and pids limits and restart policy for
 * containers, live for running ones, recorded for stopped ones. Prints each
 * container as given, as Docker does.
 *
 * @module
 */
import { EngineError, UsageError } from "../errors.ts";
import type { UpdateOptions } from "../engine/container_update.ts";
import { FlagError, type FlagValues } from "./_args.ts";
import { type Command, int, str } from "./_command.ts";
import { forEachName } from "./_each.ts";
import { containerService } from "./_service.ts";
import { bytesFlag } from "./_container_flags.ts";

/** The options `update`'s flags ask for. @throws {FlagError} for a malformed value (exit 125), {UsageError} a bad restart policy */
export function updateOptions(flags: FlagValues): UpdateOptions {
  const o: UpdateOptions = {};
  const memory = bytesFlag(flags, "memory");
  if (memory !== undefined) o.memory = memory;
  const swap = bytesFlag(flags, "memory-swap");
  if (swap !== undefined) o.memorySwap = swap;
  const cpusText = str(flags, "cpus");
  if (cpusText !== undefined) {
    const cpus = Number(cpusText);
    if (cpusText.trim() === "" || !Number.isFinite(cpus) || cpus < 0) {
      throw new FlagError(
        `invalid argument "${cpusText}" for "--cpus" flag: failed to parse ${cpusText} as a rational number`,
      );
    }
    if (cpus > navigator.hardwareConcurrency) {
      throw new EngineError(
        `range of CPUs is from 0.01 to ${navigator.hardwareConcurrency}.00, as there are only ${navigator.hardwareConcurrency} CPUs available`,
        { exitCode: 1 },
      );
    }
    o.cpus = cpus;
  }
  const shares = int(flags, "cpu-shares");
  if (shares !== undefined) o.cpuShares = shares;
  const pids = int(flags, "pids-limit");
  if (pids !== undefined) o.pidsLimit = pids;
  const restart = str(flags, "restart");
  if (restart !== undefined) {
    const m = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(restart);
    if (m === null || (m[2] !== undefined && m[1] !== "on-failure")) {
      throw new UsageError(`invalid restart policy format: "${restart}"`);
    }
    o.restart = { name: m[1]!, maximumRetryCount: m[2] === undefined ? 0 : Number(m[2]) };
  }
  return o;
}

/** `update [OPTIONS] CONTAINER [CONTAINER...]` */
export const update: Command = {
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Update configuration of one or more containers",
  args: { min: 1 },
  flags: [
    {
      name: "cpu-shares",
      short: "c",
      type: "int",
      value: "int",
      description: "CPU shares (relative weight)",
    },
    { name: "cpus", type: "string", value: "decimal", description: "Number of CPUs" },
    { name: "memory", short: "m", type: "string", value: "bytes", description: "Memory limit" },
    {
      name: "memory-swap",
      type: "string",
      value: "bytes",
      description: "Swap limit equal to memory plus swap: -1 to enable unlimited swap",
    },
    {
      name: "pids-limit",
      type: "int",
      value: "int",
      description: "Tune container pids limit (set -1 for unlimited)",
    },
    {
      name: "restart",
      type: "string",
      value: "string",
      description: "Restart policy to apply when a container exits",
    },
  ],
  async run(ctx, flags, args) {
    const options = updateOptions(flags);
    if (Object.keys(options).length === 0) {
      throw new EngineError("you must provide one or more flags when using this command", {
        exitCode: 1,
      });
    }
    const service = containerService(ctx);
    return await forEachName(ctx, args, (name) => service.update(name, options));
  },
};
