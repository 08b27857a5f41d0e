/**
 * The container service for a CLI context, in a module of its own so that
 * `ps`, `logs`, `stop` and the like load neither run's attach code nor its flags.
 *
 * @module
 */
import { ContainerService, Engine } from "../engine/mod.ts";

/** Opens the container service for a CLI context. */
export function containerService(
  ctx: { root: string; runRoot: string; self: string[] },
): ContainerService {
  return new ContainerService(Engine.open(ctx.root).store, {
    self: ctx.self,
    runRoot: ctx.runRoot,
  });
}
