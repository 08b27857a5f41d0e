/**
 * `wait`: the exit of a container this process created, with Docker's exit
 * code and whether the OOM killer acted.
 *
 * @module
 */
import { oomKilled } from "./cgroup_procs.ts";
import type { Container, ExitResult } from "./container.ts";

/**
 * Waits for the container's process to exit (a pty master stays open to
 * drain; close it with {@linkcode closeConsole}).
 * @returns the exit code (128+N after signal N), the signal, and the OOM flag
 */
export async function waitContainer(container: Container): Promise<ExitResult> {
  const status = await container.child.status;
  container.status?.close();
  const oom = oomKilled(container.cgroup);
  const result: ExitResult = {
    exitCode: oom && status.signal === "SIGKILL" ? 137 : status.code,
    oomKilled: oom,
  };
  if (status.signal !== null) result.signal = status.signal;
  return result;
}
