/**
 * `state` and `list`: the runtime-spec state of one or all containers.
 *
 * @module
 */
import { listIds, readState, type State, toState } from "./state.ts";

/**
 * The runtime-spec state of a container.
 * @throws {NotFoundError} when there is no such container
 */
export function containerState(stateRoot: string, id: string): State {
  return toState(stateRoot, readState(stateRoot, id));
}

/** The states of every container under the state root (unreadable ones skipped). */
export function listContainers(stateRoot: string): State[] {
  const out: State[] = [];
  for (const id of listIds(stateRoot)) {
    try {
      out.push(containerState(stateRoot, id));
    } catch {
      // being created or deleted
    }
  }
  return out;
}
