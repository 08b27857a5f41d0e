/**
 * The container service for a CLI context, in a module of its own so that
 * `ps`, `logs`, `stop` and the like load neither run's attach code nor its flags.
 *
 * @module
 */
// Not engine/mod.ts: its re-exports (images, registries, auth) cost every container command ~8 ms.
import { ContainerService } from "../engine/containers.ts";
import { Engine } from "../engine/engine.ts";

/** Opens the container service for a CLI context. */
export function containerService(
  ctx: { root: string; runRoot: string; self: string[] },
): ContainerService {
  return new ContainerService(Engine.open(ctx.root).store, {
    self: ctx.self,
    runRoot: ctx.runRoot,
  });
}
