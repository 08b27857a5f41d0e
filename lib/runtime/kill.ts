/**
 * `kill`: send a signal to a container's process.
 *
 * @module
 */
import { kill } from "../../ffi/proc.ts";
import { InvalidError } from "../errors.ts";
import { readState, requireStatus, toState } from "./state.ts";

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
};

/**
 * Parses `9`, `KILL` or `SIGKILL` to a signal number.
 * @throws {InvalidError} on an unknown signal
 */
export function parseSignal(value: string | number): number {
  if (typeof value === "number" || /^\d+$/.test(value)) {
    const n = Number(value);
    if (n > 0 && n < 65) return n;
  } else {
    const n = SIGNALS[value.toUpperCase().replace(/^SIG/, "")];
    if (n !== undefined) return n;
  }
  throw new InvalidError(`Invalid signal: "${value}"`);
}

/**
 * Sends `signal` to the container's process.
 * @default signal "SIGTERM"
 * @throws {NotFoundError} no such container; {ConflictError} it is stopped
 */
export function killContainer(
  stateRoot: string,
  id: string,
  signal: string | number = "SIGTERM",
): void {
  const signo = parseSignal(signal);
  const record = readState(stateRoot, id);
  requireStatus(toState(stateRoot, record), ["created", "running"], "kill");
  kill(record.pid, signo);
}
