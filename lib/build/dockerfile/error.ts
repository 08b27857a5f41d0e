/**
 * The error a malformed Dockerfile raises: an {@linkcode InvalidError} whose
 * message reads `Dockerfile:LINE:COLUMN: reason`, as Docker names the place.
 *
 * @module
 */
import { InvalidError } from "../../errors.ts";

/** A Dockerfile syntax error, with where it is. */
export class DockerfileError extends InvalidError {
  /** The file name given to `parse` (`Dockerfile` by default). */
  readonly file: string;
  /** 1-based line of the instruction (or line) at fault. */
  readonly line: number;
  /** 1-based column, when known. */
  readonly column: number | undefined;
  /** The reason alone, without the place. */
  readonly reason: string;

  constructor(reason: string, where: { file: string; line: number; column?: number | undefined }) {
    const column = where.column === undefined ? "" : `:${where.column}`;
    super(`${where.file}:${where.line}${column}: ${reason}`);
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.reason = reason;
  }
}
