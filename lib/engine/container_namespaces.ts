/**
 * `--network container:X`, `--ipc container:X` and `--pid container:X`:
 * before each start, the spec
 * names the other container's namespace by its init's pid (which changes
 * at every start of that container). The SysV IPC objects and POSIX
 * message queues are shared; /dev/shm is the container's own tmpfs (Docker
 * bind-mounts the other's, which berth keeps in no host directory).
 *
 * @module
 */
import { EngineError } from "../errors.ts";
import type { Spec } from "../runtime/mod.ts";
import { writeFileAtomic } from "../store/mod.ts";
import type { ContainerRecord, ContainerStore } from "./container_record.ts";

const KINDS = [
  { mode: "NetworkMode", type: "network", ns: "net", what: "network" },
  { mode: "IpcMode", type: "ipc", ns: "ipc", what: "IPC" },
  { mode: "PidMode", type: "pid", ns: "pid", what: "PID" },
] as const;

/**
 * Writes the joined namespaces into the bundle's config.json; nothing for
 * a container that shares none.
 * @throws {EngineError} when the other container is gone or not running
 */
export function joinSharedNamespaces(
  containers: ContainerStore,
  record: ContainerRecord,
  bundle: string,
): void {
  const wanted = KINDS.filter((k) => record.HostConfig[k.mode]?.startsWith("container:"));
  if (wanted.length === 0) return;
  const path = `${bundle}/config.json`;
  const spec = JSON.parse(Deno.readTextFileSync(path)) as Spec;
  const linux = spec.linux ??= {};
  for (const kind of wanted) {
    const targetId = record.HostConfig[kind.mode]!.slice("container:".length);
    let target: ContainerRecord;
    try {
      target = containers.read(targetId);
    } catch {
      throw new EngineError(`No such container: ${targetId}`, { exitCode: 125 });
    }
    if (!target.State.Running || target.State.Pid <= 0) {
      throw new EngineError(
        `cannot join ${kind.what} of a non running container: ${targetId}`,
        { exitCode: 125 },
      );
    }
    const namespaces = (linux.namespaces ?? []).filter((n) => n.type !== kind.type);
    namespaces.push({ type: kind.type, path: `/proc/${target.State.Pid}/ns/${kind.ns}` });
    linux.namespaces = namespaces;
  }
  writeFileAtomic(path, JSON.stringify(spec, null, 2), containers.tmpDir);
}
