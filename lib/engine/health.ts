/**
 * Health checks (`HEALTHCHECK`, `--health-cmd`), run as Docker runs them but
 * without a resident process per container: one runner per run root
 * (`berth container __healthd`, detached in a session of its own) checks every
 * running container that has a check, through the exec code path, and keeps
 * `State.Health` in each record. Whoever starts such a container calls
 * {@linkcode ensureHealthd}, which starts the runner unless one holds
 * `<run-root>/healthd.lock`; the runner leaves once no running container has
 * a check for a while (10 s).
 *
 * @module
 */
import { describeError } from "../errors.ts";
import type { HealthConfig } from "../image/config.ts";
import type { ExitResult } from "../runtime/mod.ts";
import {
  type ContainerHealth,
  type ContainerRecord,
  type ContainerStore,
  type HealthLogEntry,
  needsReconcile,
} from "./container_record.ts";

/** Docker's defaults: 30 s between checks, 30 s per check, no start period, 3 retries. */
const DEFAULT_INTERVAL_NS = 30e9;
const DEFAULT_TIMEOUT_NS = 30e9;
const DEFAULT_RETRIES = 3;
/** Docker keeps the last five results, each with its output cut at 4 KiB. */
const LOG_ENTRIES = 5;
const OUTPUT_LIMIT = 4096;
/** Environment variable: how long (ms) the runner stays with nothing to check (default 10 s). */
export const HEALTHD_IDLE_ENV = "BERTH_HEALTHD_IDLE_MS";
const DEFAULT_IDLE_MS = 10_000;

/** A container's health check, ready to run. */
export interface HealthCheck {
  /** The command the exec runs (`CMD-SHELL x` as `/bin/sh -c x`). */
  args: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  retries: number;
}

/** The lock a health runner holds for its life. */
export const healthdLockPath = (runRoot: string): string => `${runRoot}/healthd.lock`;

/**
 * The command a check's `Test` runs: `["CMD-SHELL", cmd]` through `/bin/sh -c`,
 * `["CMD", ...argv]` as it is; undefined for `NONE`, an empty test, or one
 * Docker would not run either.
 */
export function probeArgs(test: readonly string[] | null | undefined): string[] | undefined {
  if (!test || test.length === 0) return undefined;
  if (test[0] === "CMD-SHELL" && test.length > 1) return ["/bin/sh", "-c", test.slice(1).join(" ")];
  if (test[0] === "CMD" && test.length > 1) return test.slice(1);
  return undefined;
}

/** A container's check with Docker's defaults filled in, or undefined without one. */
export function healthCheckFrom(config: HealthConfig | undefined): HealthCheck | undefined {
  const args = probeArgs(config?.Test);
  if (config === undefined || args === undefined) return undefined;
  const positive = (v: number | undefined, fallback: number) =>
    v !== undefined && v > 0 ? v : fallback;
  return {
    args,
    intervalNs: positive(config.Interval, DEFAULT_INTERVAL_NS),
    timeoutNs: positive(config.Timeout, DEFAULT_TIMEOUT_NS),
    startPeriodNs: positive(config.StartPeriod, 0),
    retries: positive(config.Retries, DEFAULT_RETRIES),
  };
}

/**
 * The check container `record` runs: its own `Config.Healthcheck` (the
 * `--health-*` flags merged with the image's), else its image's HEALTHCHECK.
 */
export function healthCheckOf(
  record: ContainerRecord,
  containers: ContainerStore,
): HealthCheck | undefined {
  const own = (record.Config as { Healthcheck?: HealthConfig }).Healthcheck;
  return healthCheckFrom(own ?? imageHealthcheck(containers.root, record.Image));
}

function imageHealthcheck(root: string, image: string): HealthConfig | undefined {
  const hex = /^sha256:([a-f0-9]{64})$/.exec(image)?.[1];
  if (hex === undefined) return undefined;
  try {
    const config = JSON.parse(Deno.readTextFileSync(`${root}/blobs/sha256/${hex}`)) as {
      config?: { Healthcheck?: HealthConfig };
    };
    return config.config?.Healthcheck;
  } catch {
    return undefined; // its image is gone (rmi -f): no check to read
  }
}

/**
 * Docker's transitions for one result: a pass makes it healthy; a failure
 * counts (unless it is still starting within the start period) and makes it
 * unhealthy at `retries` in a row.
 */
export function nextHealth(
  previous: ContainerHealth | undefined,
  entry: HealthLogEntry,
  check: Pick<HealthCheck, "retries" | "startPeriodNs">,
  startedAt: string,
): ContainerHealth {
  const health: ContainerHealth = {
    Status: previous?.Status ?? "starting",
    FailingStreak: previous?.FailingStreak ?? 0,
    Log: [...(previous?.Log ?? []), entry].slice(-LOG_ENTRIES),
  };
  if (entry.ExitCode === 0) {
    health.FailingStreak = 0;
    health.Status = "healthy";
    return health;
  }
  const sinceStartNs = (Date.parse(entry.Start) - Date.parse(startedAt)) * 1e6;
  if (health.Status === "starting" && sinceStartNs < check.startPeriodNs) return health;
  health.FailingStreak++;
  if (health.FailingStreak >= check.retries) health.Status = "unhealthy";
  return health;
}

/** A check's output as Docker keeps it: the first 4 KiB of stdout and stderr, then `...`. */
export class OutputLimit {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #truncated = false;

  write(bytes: Uint8Array): void {
    const keep = Math.min(OUTPUT_LIMIT - this.#size, bytes.length);
    if (keep > 0) {
      this.#chunks.push(bytes.slice(0, keep));
      this.#size += keep;
    }
    if (keep < bytes.length) this.#truncated = true;
  }

  text(): string {
    const all = new Uint8Array(this.#size);
    let at = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return new TextDecoder().decode(all) + (this.#truncated ? "..." : "");
  }
}

/** A duration as Go prints it (`30s`, `1.5s`, `500ms`, `1m30s`), as Docker's messages show it. */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const trim = (v: number) => String(Number(v.toFixed(9)));
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = `${trim((ns % 60e9) / 1e9)}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  if (m > 0) return `${m}m${s}`;
  return s;
}

/** What {@linkcode ensureHealthd} needs: the records, the run root, and how to run berth. */
export interface HealthdStarter {
  containers: ContainerStore;
  runRoot: string;
  /** argv that re-executes berth with its global flags; else `self` plus `--root`/`--run-root`. */
  berth?: string[];
  self?: string[];
}

/**
 * Called once container `id` runs: when it has a health check, its
 * `State.Health` starts as "starting" (a restart's is reset by
 * markRunning) and the run root's health runner is started unless one runs.
 * Never throws: a container runs whether or not its check can.
 */
export function ensureHealthd(ctx: HealthdStarter, id: string): void {
  try {
    const record = ctx.containers.read(id);
    if (healthCheckOf(record, ctx.containers) === undefined) return;
    if (record.State.Health === undefined) {
      ctx.containers.update(id, (r) => {
        r.State = { ...r.State, Health: { Status: "starting", FailingStreak: 0, Log: [] } };
      });
    }
    if (healthdRunning(ctx.runRoot)) return;
    const argv = ctx.berth ??
      [...(ctx.self ?? []), "--root", ctx.containers.root, "--run-root", ctx.runRoot];
    const [cmd, ...args] = [...argv, "container", "__healthd"];
    new Deno.Command(cmd!, {
      args,
      cwd: "/",
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
    }).spawn().unref();
  } catch {
    // removed meanwhile, or berth cannot be started again: the container runs unchecked
  }
}

/** Whether a health runner holds the run root's lock. */
export function healthdRunning(runRoot: string): boolean {
  Deno.mkdirSync(runRoot, { recursive: true, mode: 0o700 });
  const file = Deno.openSync(healthdLockPath(runRoot), { read: true, write: true, create: true });
  try {
    if (!file.tryLockSync(true)) return true;
    file.unlockSync();
    return false;
  } finally {
    file.close();
  }
}

/** Runs one check's command in a running container (the exec code path). */
export type ProbeExec = (
  id: string,
  args: string[],
  io: { output: (stream: "stdout" | "stderr", bytes: Uint8Array) => void; signal: AbortSignal },
) => Promise<ExitResult>;

/** What the runner works with. */
export interface HealthdOptions {
  containers: ContainerStore;
  runRoot: string;
  exec: ProbeExec;
  /** Told of each change of a container's health status (`health_status: healthy` events). */
  onStatus?: (record: ContainerRecord, status: ContainerHealth["Status"]) => void;
  /** How long (ms) it stays with nothing to check. @default $BERTH_HEALTHD_IDLE_MS or 10 s */
  idleMs?: number;
}

interface Schedule {
  startedAt: string;
  check: HealthCheck;
  /** When the next check is due (ms since the epoch). */
  due: number;
  busy: boolean;
}

/**
 * `container __healthd`: the run root's health runner. Takes the lock (or
 * returns false at once when another runner holds it) and runs each running
 * container's check when it is due, until no running container has had a
 * check for `idleMs`.
 */
export async function runHealthd(options: HealthdOptions): Promise<boolean> {
  Deno.mkdirSync(options.runRoot, { recursive: true, mode: 0o700 });
  const lock = Deno.openSync(healthdLockPath(options.runRoot), {
    read: true,
    write: true,
    create: true,
  });
  try {
    if (!lock.tryLockSync(true)) return false;
    lock.truncateSync(0);
    lock.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
    await new HealthRunner(options, lock).run();
    return true;
  } finally {
    lock.close();
  }
}

class HealthRunner {
  #options: HealthdOptions;
  #lock: Deno.FsFile;
  #schedules = new Map<string, Schedule>();
  #idleMs: number;
  #wake: () => void = () => {};

  constructor(options: HealthdOptions, lock: Deno.FsFile) {
    this.#options = options;
    this.#lock = lock;
    const env = Number(Deno.env.get(HEALTHD_IDLE_ENV));
    this.#idleMs = options.idleMs ?? (Number.isFinite(env) && env >= 0 ? env : DEFAULT_IDLE_MS);
  }

  async run(): Promise<void> {
    let idleSince: number | undefined;
    for (;;) {
      const active = this.#active();
      const busy = [...this.#schedules.values()].some((s) => s.busy);
      const now = Date.now();
      if (active.length > 0 || busy) {
        idleSince = undefined;
      } else if (now - (idleSince ??= now) >= this.#idleMs) {
        // Let go of the lock, then look once more: a container started before this look is
        // seen now; one started after it finds the lock free and starts a new runner.
        this.#lock.unlockSync();
        if (this.#active().length === 0 || !this.#lock.tryLockSync(true)) return;
        idleSince = undefined;
      }
      let next = now + 1000;
      for (const record of active) {
        const schedule = this.#scheduleOf(record);
        if (schedule === undefined || schedule.busy || record.State.Paused) continue;
        if (schedule.due <= now) {
          schedule.busy = true;
          void this.#probe(record, schedule).finally(() => {
            schedule.busy = false;
            schedule.due = Date.now() + schedule.check.intervalNs / 1e6;
            this.#wake();
          });
        } else {
          next = Math.min(next, schedule.due);
        }
      }
      // Until the next check is due (a second at most, to see containers that start), or a
      // check ends and its next one is scheduled.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, Math.max(10, Math.min(next - Date.now(), 1000)));
      });
      clearTimeout(timer);
    }
  }

  /** Running containers that have a check (records that need reconciling are left alone). */
  #active(): ContainerRecord[] {
    const out: ContainerRecord[] = [];
    const seen = new Set<string>();
    for (const record of this.#options.containers.list()) {
      if (!record.State.Running || needsReconcile(record, this.#options.runRoot)) continue;
      const schedule = this.#scheduleOf(record);
      if (schedule === undefined) continue;
      seen.add(record.Id);
      out.push(record);
    }
    for (const [id, schedule] of this.#schedules) {
      if (!seen.has(id) && !schedule.busy) this.#schedules.delete(id);
    }
    return out;
  }

  /** The schedule of a run (a new one after a restart): first check one interval after start. */
  #scheduleOf(record: ContainerRecord): Schedule | undefined {
    const known = this.#schedules.get(record.Id);
    if (known !== undefined && known.startedAt === record.State.StartedAt) return known;
    if (known?.busy) return undefined; // the last run's check is still going
    const check = healthCheckOf(record, this.#options.containers);
    if (check === undefined) {
      this.#schedules.delete(record.Id);
      return undefined;
    }
    const schedule: Schedule = {
      startedAt: record.State.StartedAt,
      check,
      due: Date.parse(record.State.StartedAt) + check.intervalNs / 1e6,
      busy: false,
    };
    this.#schedules.set(record.Id, schedule);
    return schedule;
  }

  /** Runs one check, killing it at its timeout, and records the result. */
  async #probe(record: ContainerRecord, schedule: Schedule): Promise<void> {
    const { check } = schedule;
    const start = new Date();
    const output = new OutputLimit();
    const abort = new AbortController();
    let timedOutAt: Date | undefined;
    const timer = setTimeout(() => {
      timedOutAt = new Date();
      abort.abort();
    }, check.timeoutNs / 1e6);
    let exitCode: number;
    let failure: string | undefined;
    try {
      const result = await this.#options.exec(record.Id, check.args, {
        output: (_stream, bytes) => output.write(bytes),
        signal: abort.signal,
      });
      exitCode = result.exitCode;
    } catch (error) {
      exitCode = -1;
      failure = describeError(error);
    } finally {
      clearTimeout(timer);
    }
    const entry: HealthLogEntry = timedOutAt !== undefined
      ? {
        Start: start.toISOString(),
        End: timedOutAt.toISOString(),
        ExitCode: -1,
        Output: `Health check exceeded timeout (${goDuration(check.timeoutNs)})`,
      }
      : {
        Start: start.toISOString(),
        End: new Date().toISOString(),
        ExitCode: exitCode,
        Output: failure ?? output.text(),
      };
    this.#record(record.Id, schedule, entry);
  }

  #record(id: string, schedule: Schedule, entry: HealthLogEntry): void {
    let before: ContainerHealth["Status"] | undefined;
    let after: ContainerHealth["Status"] | undefined;
    let record: ContainerRecord;
    try {
      const current = this.#options.containers.read(id);
      // Stopped or restarted meanwhile: this result belongs to a run that is over.
      if (!current.State.Running || current.State.StartedAt !== schedule.startedAt) return;
      record = this.#options.containers.update(id, (r) => {
        before = r.State.Health?.Status ?? "starting";
        const health = nextHealth(r.State.Health, entry, schedule.check, schedule.startedAt);
        after = health.Status;
        r.State = { ...r.State, Health: health };
      });
    } catch {
      return; // removed meanwhile
    }
    if (after !== undefined && after !== before) this.#options.onStatus?.(record, after);
  }
}
