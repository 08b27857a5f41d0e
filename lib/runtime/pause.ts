/**
 * `pause` and `resume` (runc's names; Docker's pause/unpause): freezes every
 * process of the container through the freezer cgroup (v1 `freezer.state`,
 * v2 `cgroup.freeze`).
 *
 * @module
 */
import { ConflictError, EngineError } from "../errors.ts";
import type { Cgroup } from "./cgroup.ts";
import { readState, requireStatus, toState } from "./state.ts";

function freezerFile(cg: Cgroup): { path: string; frozen: string; thawed: string } {
  if (cg.version === 2) return { path: `${cg.dirs[""]}/cgroup.freeze`, frozen: "1", thawed: "0" };
  const dir = cg.dirs.freezer;
  if (dir === undefined) {
    throw new EngineError("Cannot pause: the freezer cgroup controller is not mounted");
  }
  return { path: `${dir}/freezer.state`, frozen: "FROZEN", thawed: "THAWED" };
}

/** Whether a container's processes are frozen. */
export function isFrozen(cg: Cgroup): boolean {
  try {
    const f = freezerFile(cg);
    return Deno.readTextFileSync(f.path).trim() === f.frozen;
  } catch {
    return false;
  }
}

async function setFrozen(stateRoot: string, id: string, frozen: boolean): Promise<void> {
  const record = readState(stateRoot, id);
  requireStatus(toState(stateRoot, record), ["running"], frozen ? "pause" : "resume");
  const f = freezerFile(record.cgroup);
  if (isFrozen(record.cgroup) === frozen) {
    throw new ConflictError(`Container ${id} is ${frozen ? "already paused" : "not paused"}`);
  }
  Deno.writeTextFileSync(f.path, frozen ? f.frozen : f.thawed);
  // v1 reports FREEZING until every task has stopped.
  for (let i = 0; i < 200; i++) {
    const now = Deno.readTextFileSync(f.path).trim();
    if (now === (frozen ? f.frozen : f.thawed)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new EngineError(
    `Cannot ${frozen ? "pause" : "resume"} container ${id}: the freezer did not settle`,
  );
}

/** Freezes a running container. @throws {ConflictError} when it is not running or already paused */
export function pauseContainer(stateRoot: string, id: string): Promise<void> {
  return setFrozen(stateRoot, id, true);
}

/** Thaws a paused container. @throws {ConflictError} when it is not paused */
export function resumeContainer(stateRoot: string, id: string): Promise<void> {
  return setFrozen(stateRoot, id, false);
}
