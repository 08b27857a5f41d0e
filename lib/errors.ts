/**
 * Error classes shared by every layer of berth, with Docker's exit codes.
 *
 * Messages start with a capital letter and have no final period; context is
 * added with `{ cause }`, and only `main.ts` prints the chain.
 *
 * @module
 */

/** Docker's exit status when the engine itself fails. */
export const EXIT_ENGINE = 125;
/** Docker's exit status when a container command cannot be invoked. */
export const EXIT_NOT_EXECUTABLE = 126;
/** Docker's exit status when a container command is not found. */
export const EXIT_NOT_FOUND = 127;

/** Options for {@linkcode EngineError}. */
export interface EngineErrorOptions {
  /** Process exit status for this failure. @default 125 */
  exitCode?: number;
  /** A suggestion printed after the message. */
  hint?: string;
  /** The lower-level error that caused this one. */
  cause?: unknown;
}

/** Base class for every failure berth reports to a user. */
export class EngineError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: EngineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? EXIT_ENGINE;
    this.hint = options.hint;
  }
}

/** Something named by the user does not exist (image, container, blob). */
export class NotFoundError extends EngineError {}

/** The request conflicts with the current state (name in use, image in use). */
export class ConflictError extends EngineError {}

/** The command line is wrong: unknown flag, missing argument. */
export class UsageError extends EngineError {}

/** Input data is malformed: a manifest, a config, an archive. */
export class InvalidError extends EngineError {}

/** Content did not hash to the digest it was announced with. */
export class DigestMismatchError extends EngineError {
  readonly expected: string;
  readonly actual: string;

  constructor(expected: string, actual: string, what = "content") {
    super(`Digest mismatch for ${what}: expected "${expected}", got "${actual}"`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A libc call failed; carries the call's name and errno's symbolic name. */
export class SyscallError extends EngineError {
  readonly syscall: string;
  readonly errno: number;
  readonly code: string;
  readonly path: string | undefined;

  constructor(syscall: string, errno: number, code: string, text: string, path?: string) {
    const where = path === undefined ? syscall : `${syscall} "${path}"`;
    super(`${where}: ${code} (${text})`);
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
    this.path = path;
  }
}

/** The exit status an error maps to: its own for an EngineError, else 125. */
export function exitCodeOf(error: unknown): number {
  return error instanceof EngineError ? error.exitCode : EXIT_ENGINE;
}

/** Formats an error and its causes as one line, the way `main.ts` prints it. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  // A wrapper that already quotes its cause's text should not repeat it.
  const out: string[] = [];
  for (const part of parts) {
    const prev = out[out.length - 1];
    if (
      part.length === 0 || (prev !== undefined && prev.toLowerCase().includes(part.toLowerCase()))
    ) continue;
    out.push(part);
  }
  return out.join(": ");
}
