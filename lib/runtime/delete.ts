/**
 * `delete`: remove a stopped container's cgroup and state (with `force`,
 * kill a running one first).
 *
 * @module
 */
import { kill } from "../../ffi/proc.ts";
import { ConflictError, EngineError, NotFoundError } from "../errors.ts";
import { type Cgroup, cgroupPids, removeCgroup } from "./cgroup.ts";
import { runHooksQuietly } from "./hooks.ts";
import { releaseHostMounts } from "./host_mounts.ts";
import { loadSpecQuietly } from "./start.ts";
import { isAlive, readState, stateDir, toState } from "./state.ts";

/** Options for {@linkcode deleteContainer}. */
export interface DeleteOptions {
  /** Kill the container first if it still runs. @default false */
  force?: boolean;
  /** Gets a line for each poststop hook that failed (delete goes on). */
  onWarning?: (message: string) => void;
}

const killQuietly = (pid: number) => {
  try {
    kill(pid, 9);
  } catch {
    // exited meanwhile
  }
};

/** A frozen (paused) task cannot die until it is thawed. */
const thaw = (cg: Cgroup) => {
  const [file, value] = cg.version === 2
    ? [`${cg.dirs[""]}/cgroup.freeze`, "0"]
    : [`${cg.dirs.freezer}/freezer.state`, "THAWED"];
  try {
    if (cg.version === 2 || cg.dirs.freezer !== undefined) Deno.writeTextFileSync(file, value);
  } catch {
    // no freezer
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Deletes a container.
 * @throws {NotFoundError} no such container; {ConflictError} it runs and `force` is off
 */
export async function deleteContainer(
  stateRoot: string,
  id: string,
  options: DeleteOptions = {},
): Promise<void> {
  const dir = stateDir(stateRoot, id);
  let record;
  try {
    record = readState(stateRoot, id);
  } catch (error) {
    // A create that died half-way leaves a directory without state.json.
    if (!(error instanceof NotFoundError) || !options.force) throw error;
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      throw error;
    }
    return;
  }
  if (isAlive(record)) {
    if (!options.force) {
      throw new ConflictError(`Cannot delete container "${id}": container is running (use force)`);
    }
    killQuietly(record.pid);
    thaw(record.cgroup);
    for (let i = 0; i < 500 && isAlive(record); i++) await sleep(10);
  }
  // Without a PID namespace of its own, a container's other processes outlive its init.
  if (options.force) { for (const pid of cgroupPids(record.cgroup)) killQuietly(pid); }
  if (!(await removeCgroup(record.cgroup))) {
    throw new EngineError(`Cannot delete container "${id}": its cgroup still has processes`);
  }
  if (record.hostMounts !== undefined) releaseHostMounts(record.hostMounts);
  const hooks = loadSpecQuietly(record.bundle)?.hooks?.poststop;
  if (hooks) {
    await runHooksQuietly(hooks, toState(stateRoot, record), {
      stage: "poststop",
      onWarning: options.onWarning,
    });
  }
  Deno.removeSync(dir, { recursive: true });
}
