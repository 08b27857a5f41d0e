/**
 * `berth container __healthd` (hidden): the run root's health runner, started
 * detached by whoever starts a container with a health check (see
 * engine/health.ts). A second one exits at once; it leaves by itself once no
 * running container has a check. Like `__exited`, it loads the container
 * service alone.
 *
 * @module
 */
import { ContainerService } from "../engine/containers.ts";
import { containerEvent } from "../engine/events.ts";
import { runHealthd } from "../engine/health.ts";
import { openStore, pathExists } from "../store/mod.ts";
import type { Command } from "./_command.ts";

/** `container __healthd` (hidden): runs the health checks of a run root's containers. */
export const healthd: Command = {
  usage: "",
  summary: "Run the health checks of running containers (started by berth)",
  args: { min: 0, max: 0 },
  flags: [],
  async run(ctx) {
    // A root that is gone (or never laid out) has no container to check.
    if (!pathExists(`${ctx.root}/containers`)) return 0;
    const service = new ContainerService(openStore(ctx.root, { reading: true }), {
      self: ctx.self,
      runRoot: ctx.runRoot,
    });
    await runHealthd({
      containers: service.records,
      runRoot: ctx.runRoot,
      exec: (id, args, io) => service.exec(id, { args }, io),
      // Docker's `health_status: healthy` (and `unhealthy`) events, at each change of status.
      onStatus: (record, status) =>
        containerEvent(service.records, `health_status: ${status}`, record.Id),
    });
    return 0;
  },
};
