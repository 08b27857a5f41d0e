/**
 * The handle of a container created by this process, and the options of
 * {@linkcode createContainer}.
 *
 * @module
 */
import type { Cgroup } from "./cgroup.ts";
import type { EarlyInit } from "./early_init.ts";
import type { StatusReader } from "./_status.ts";
import type { Stdio } from "./launch.ts";
import type { Spec } from "./spec.ts";

/** A container this process created (it holds init as its child). */
export interface Container {
  id: string;
  stateRoot: string;
  bundle: string;
  spec: Spec;
  pid: number;
  cgroup: Cgroup;
  /** init, then the container's process (same pid). */
  child: Deno.ChildProcess;
  /** The pty master when `process.terminal` is true. */
  console?: number;
  /** @internal init's status pipe, open until exec. */
  status?: StatusReader;
}

/** Options for {@linkcode createContainer}. */
export interface CreateOptions {
  /** argv that re-executes berth (`ctx.self` in the CLI). */
  self: string[];
  /** @default "/run/berth/runtime" */
  stateRoot?: string;
  /** @default all "inherit" */
  stdio?: Stdio;
  /** Kill the container when this process dies (foreground run, monitor). @default false */
  pdeathsig?: boolean;
  /**
   * An init started before the bundle existed: used when it was started with
   * this create's `self`, `stdio` and `pdeathsig` and the spec wants new
   * PID/NET/UTS/IPC namespaces, else killed (its owner still reaps it).
   */
  init?: EarlyInit;
  /** Write the container's pid to this file. */
  pidFile?: string;
  /**
   * Called once init runs in its new namespaces and cgroup, before it builds
   * the root: configure the network namespace (`/proc/PID/ns/net`) here.
   * Throwing aborts the create and removes everything.
   */
  beforeSetup?: (pid: number) => void | Promise<void>;
}

/** How a container ended. */
export interface ExitResult {
  /** Docker's exit code: the status, or 128+N after signal N (137 for an OOM kill). */
  exitCode: number;
  /** The signal that killed it, if any. */
  signal?: Deno.Signal;
  /** The kernel's OOM killer acted in the container's cgroup. */
  oomKilled: boolean;
}
