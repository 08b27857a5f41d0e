/**
 * The table of commands: names (with `group sub` for management commands),
 * summaries, and lazy loaders so that each run loads only its own command.
 *
 * @module
 */
import type { Command } from "./_command.ts";

/** A command's table row. */
export interface CommandEntry {
  summary: string;
  /** Left out of `--help` listings (internal modes such as the monitor). */
  hidden?: boolean;
  load(): Promise<Command>;
}

/** Management command groups and their summaries. */
export const GROUPS: Record<string, string> = {
  builder: "Manage builds",
  container: "Manage containers",
  image: "Manage images",
  network: "Manage networks",
  runtime: "Run OCI bundles (the low-level runtime, like runc)",
  registry: "Manage a built-in registry",
  system: "Manage berth",
  volume: "Manage volumes",
};

const lazy = (summary: string, load: () => Promise<Command>, hidden = false): CommandEntry => ({
  summary,
  load,
  ...(hidden ? { hidden } : {}),
});

/** Every command by its path (`images`, `image ls`, ...). */
export const COMMANDS: Record<string, CommandEntry> = {
  "build": lazy("Build an image from a Dockerfile", async () => (await import("./build.ts")).build),
  "image build": lazy(
    "Build an image from a Dockerfile",
    async () => (await import("./build.ts")).build,
  ),
  "builder prune": lazy(
    "Remove build cache",
    async () => (await import("./build.ts")).builderPrune,
  ),
  "history": lazy(
    "Show the history of an image",
    async () => (await import("./history.ts")).history,
  ),
  "images": lazy("List images", async () => (await import("./images.ts")).images),
  "import": lazy(
    "Import the contents from a tarball to create a filesystem image",
    async () => (await import("./import.ts")).importCmd,
  ),
  "inspect": lazy(
    "Return low-level information on berth objects",
    async () => (await import("./inspect.ts")).inspect,
  ),
  "load": lazy(
    "Load an image from a tar archive or STDIN",
    async () => (await import("./load.ts")).load,
  ),
  "login": lazy("Log in to a registry", async () => (await import("./login.ts")).login),
  "logout": lazy("Log out from a registry", async () => (await import("./logout.ts")).logout),
  "pull": lazy("Download an image from a registry", async () => (await import("./pull.ts")).pull),
  "push": lazy("Upload an image to a registry", async () => (await import("./push.ts")).push),
  "image pull": lazy(
    "Download an image from a registry",
    async () => (await import("./pull.ts")).pull,
  ),
  "image push": lazy(
    "Upload an image to a registry",
    async () => (await import("./push.ts")).push,
  ),
  "rmi": lazy("Remove one or more images", async () => (await import("./rmi.ts")).rmi),
  "save": lazy(
    "Save one or more images to a tar archive",
    async () => (await import("./save.ts")).save,
  ),
  "tag": lazy(
    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    async () => (await import("./tag.ts")).tag,
  ),
  "image history": lazy(
    "Show the history of an image",
    async () => (await import("./history.ts")).history,
  ),
  "image import": lazy(
    "Import the contents from a tarball to create a filesystem image",
    async () => (await import("./import.ts")).importCmd,
  ),
  "image inspect": lazy(
    "Display detailed information on one or more images",
    async () => (await import("./inspect.ts")).imageInspect,
  ),
  "image load": lazy(
    "Load an image from a tar archive or STDIN",
    async () => (await import("./load.ts")).load,
  ),
  "image ls": lazy("List images", async () => (await import("./images.ts")).images),
  "image list": lazy("List images", async () => (await import("./images.ts")).images),
  "image prune": lazy("Remove unused images", async () => (await import("./prune.ts")).imagePrune),
  "image rm": lazy("Remove one or more images", async () => (await import("./rmi.ts")).rmi),
  "image save": lazy(
    "Save one or more images to a tar archive",
    async () => (await import("./save.ts")).save,
  ),
  "image tag": lazy(
    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    async () => (await import("./tag.ts")).tag,
  ),
  "registry gc": lazy(
    "Remove unreferenced blobs from a registry's storage",
    async () => (await import("./registry.ts")).registryGc,
  ),
  "registry serve": lazy(
    "Run an OCI distribution registry",
    async () => (await import("./registry.ts")).registryServe,
  ),
  "runtime run": lazy(
    "Run a container from an OCI bundle in the foreground",
    async () => (await import("./runtime.ts")).run,
  ),
  "runtime create": lazy(
    "Create a container that waits for start",
    async () => (await import("./runtime.ts")).create,
  ),
  "runtime start": lazy(
    "Start a created container",
    async () => (await import("./runtime.ts")).start,
  ),
  "runtime state": lazy(
    "Print a container's state",
    async () => (await import("./runtime.ts")).state,
  ),
  "runtime kill": lazy(
    "Send a signal to a container",
    async () => (await import("./runtime.ts")).kill,
  ),
  "runtime delete": lazy("Delete a container", async () => (await import("./runtime.ts")).remove),
  "runtime exec": lazy(
    "Run a process in a running container",
    async () => (await import("./runtime.ts")).exec,
  ),
  "runtime list": lazy("List containers", async () => (await import("./runtime.ts")).list),
  "runtime pause": lazy(
    "Freeze a container's processes",
    async () => (await import("./runtime.ts")).pause,
  ),
  "runtime resume": lazy(
    "Thaw a paused container",
    async () => (await import("./runtime.ts")).resume,
  ),
  "runtime ps": lazy("List a container's processes", async () => (await import("./runtime.ts")).ps),
  "runtime __init": lazy(
    "Container init (internal)",
    async () => (await import("./runtime.ts")).init,
    true,
  ),
  "run": lazy(
    "Create and run a new container from an image",
    async () => (await import("./run.ts")).run,
  ),
  "create": lazy("Create a new container", async () => (await import("./create.ts")).create),
  "start": lazy(
    "Start one or more stopped containers",
    async () => (await import("./start.ts")).start,
  ),
  "stop": lazy("Stop one or more running containers", async () => (await import("./stop.ts")).stop),
  "restart": lazy(
    "Restart one or more containers",
    async () => (await import("./stop.ts")).restart,
  ),
  "kill": lazy(
    "Kill one or more running containers",
    async () => (await import("./stop.ts")).killCmd,
  ),
  "rm": lazy("Remove one or more containers", async () => (await import("./stop.ts")).rm),
  "ps": lazy("List containers", async () => (await import("./ps.ts")).ps),
  "logs": lazy("Fetch the logs of a container", async () => (await import("./logs.ts")).logs),
  "wait": lazy(
    "Block until one or more containers stop, then print their exit codes",
    async () => (await import("./wait.ts")).wait,
  ),
  "exec": lazy(
    "Execute a command in a running container",
    async () => (await import("./exec.ts")).exec,
  ),
  "container run": lazy(
    "Create and run a new container from an image",
    async () => (await import("./run.ts")).run,
  ),
  "container create": lazy(
    "Create a new container",
    async () => (await import("./create.ts")).create,
  ),
  "container start": lazy(
    "Start one or more stopped containers",
    async () => (await import("./start.ts")).start,
  ),
  "container stop": lazy(
    "Stop one or more running containers",
    async () => (await import("./stop.ts")).stop,
  ),
  "container restart": lazy(
    "Restart one or more containers",
    async () => (await import("./stop.ts")).restart,
  ),
  "container kill": lazy(
    "Kill one or more running containers",
    async () => (await import("./stop.ts")).killCmd,
  ),
  "container rm": lazy("Remove one or more containers", async () => (await import("./stop.ts")).rm),
  "container ls": lazy("List containers", async () => (await import("./ps.ts")).ps),
  "container ps": lazy("List containers", async () => (await import("./ps.ts")).ps),
  "container logs": lazy(
    "Fetch the logs of a container",
    async () => (await import("./logs.ts")).logs,
  ),
  "container wait": lazy(
    "Block until one or more containers stop, then print their exit codes",
    async () => (await import("./wait.ts")).wait,
  ),
  "container exec": lazy(
    "Execute a command in a running container",
    async () => (await import("./exec.ts")).exec,
  ),
  "container inspect": lazy(
    "Display detailed information on one or more containers",
    async () => (await import("./inspect.ts")).containerInspectCmd,
  ),
  "container prune": lazy(
    "Remove all stopped containers",
    async () => (await import("./container.ts")).containerPrune,
  ),
  "container __exited": lazy(
    "Record a detached container's exit (run by conmon)",
    async () => (await import("./_monitor.ts")).exited,
    true,
  ),
  "container __healthd": lazy(
    "Run the health checks of running containers (started by berth)",
    async () => (await import("./_healthd.ts")).healthd,
    true,
  ),
  "rename": lazy("Rename a container", async () => (await import("./rename.ts")).rename),
  "attach": lazy(
    "Attach local standard input, output, and error streams to a running container",
    async () => (await import("./attach.ts")).attach,
  ),
  "container attach": lazy(
    "Attach local standard input, output, and error streams to a running container",
    async () => (await import("./attach.ts")).attach,
  ),
  "diff": lazy(
    "Inspect changes to files or directories on a container's filesystem",
    async () => (await import("./rename.ts")).diff,
  ),
  "container rename": lazy("Rename a container", async () => (await import("./rename.ts")).rename),
  "commit": lazy(
    "Create a new image from a container's changes",
    async () => (await import("./commit.ts")).commit,
  ),
  "container commit": lazy(
    "Create a new image from a container's changes",
    async () => (await import("./commit.ts")).commit,
  ),
  "container diff": lazy(
    "Inspect changes to files or directories on a container's filesystem",
    async () => (await import("./rename.ts")).diff,
  ),
  "cp": lazy(
    "Copy files/folders between a container and the local filesystem",
    async () => (await import("./cp.ts")).cp,
  ),
  "container cp": lazy(
    "Copy files/folders between a container and the local filesystem",
    async () => (await import("./cp.ts")).cp,
  ),
  "pause": lazy(
    "Pause all processes within one or more containers",
    async () => (await import("./pause.ts")).pause,
  ),
  "unpause": lazy(
    "Unpause all processes within one or more containers",
    async () => (await import("./pause.ts")).unpause,
  ),
  "port": lazy(
    "List port mappings or a specific mapping for the container",
    async () => (await import("./port.ts")).port,
  ),
  "container port": lazy(
    "List port mappings or a specific mapping for the container",
    async () => (await import("./port.ts")).port,
  ),
  "top": lazy(
    "Display the running processes of a container",
    async () => (await import("./top.ts")).top,
  ),
  "stats": lazy(
    "Display a live stream of container(s) resource usage statistics",
    async () => (await import("./stats.ts")).stats,
  ),
  "container pause": lazy(
    "Pause all processes within one or more containers",
    async () => (await import("./pause.ts")).pause,
  ),
  "container unpause": lazy(
    "Unpause all processes within one or more containers",
    async () => (await import("./pause.ts")).unpause,
  ),
  "container top": lazy(
    "Display the running processes of a container",
    async () => (await import("./top.ts")).top,
  ),
  "container stats": lazy(
    "Display a live stream of container(s) resource usage statistics",
    async () => (await import("./stats.ts")).stats,
  ),
  "version": lazy(
    "Show the berth version information",
    async () => (await import("./version.ts")).version,
  ),
  "info": lazy("Display system-wide information", async () => (await import("./info.ts")).info),
  "system info": lazy(
    "Display system-wide information",
    async () => (await import("./info.ts")).info,
  ),
  "events": lazy(
    "Get real time events from the server",
    async () => (await import("./events.ts")).events,
  ),
  "system events": lazy(
    "Get real time events from the server",
    async () => (await import("./events.ts")).events,
  ),
  "system prune": lazy("Remove unused data", async () => (await import("./system.ts")).systemPrune),
  "export": lazy(
    "Export a container's filesystem as a tar archive",
    async () => (await import("./export.ts")).exportCmd,
  ),
  "container export": lazy(
    "Export a container's filesystem as a tar archive",
    async () => (await import("./export.ts")).exportCmd,
  ),
  "update": lazy(
    "Update configuration of one or more containers",
    async () => (await import("./update.ts")).update,
  ),
  "container update": lazy(
    "Update configuration of one or more containers",
    async () => (await import("./update.ts")).update,
  ),
  "system df": lazy("Show berth disk usage", async () => (await import("./df.ts")).df),
  "network connect": lazy(
    "Connect a container to a network",
    async () => (await import("./network.ts")).networkConnect,
  ),
  "network disconnect": lazy(
    "Disconnect a container from a network",
    async () => (await import("./network.ts")).networkDisconnect,
  ),
  "network create": lazy(
    "Create a network",
    async () => (await import("./network.ts")).networkCreate,
  ),
  "network inspect": lazy(
    "Display detailed information on one or more networks",
    async () => (await import("./network.ts")).networkInspect,
  ),
  "network ls": lazy("List networks", async () => (await import("./network.ts")).networkLs),
  "network prune": lazy(
    "Remove all unused networks",
    async () => (await import("./network.ts")).networkPrune,
  ),
  "network rm": lazy(
    "Remove one or more networks",
    async () => (await import("./network.ts")).networkRm,
  ),
  "volume create": lazy(
    "Create a volume",
    async () => (await import("./volume.ts")).volumeCreate,
  ),
  "volume inspect": lazy(
    "Display detailed information on one or more volumes",
    async () => (await import("./volume.ts")).volumeInspect,
  ),
  "volume ls": lazy("List volumes", async () => (await import("./volume.ts")).volumeLs),
  "volume prune": lazy(
    "Remove unused local volumes",
    async () => (await import("./volume.ts")).volumePrune,
  ),
  "volume rm": lazy(
    "Remove one or more volumes",
    async () => (await import("./volume.ts")).volumeRm,
  ),
};
