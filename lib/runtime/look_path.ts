/**
 * Finds the executable a container's `process.args[0]` names, inside the
 * container's root, with the errors and exit codes Docker reports.
 *
 * @module
 */
import { EngineError, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND } from "../errors.ts";
import { DEFAULT_PATH } from "./default_spec.ts";

/** Failure to find or invoke the command; exit 127 or 126 as Docker. */
export class ExecError extends EngineError {}

const isExecutableFile = (path: string): "ok" | "missing" | "dir" | "noexec" => {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    return "missing";
  }
  if (info.isDirectory) return "dir";
  if (((info.mode ?? 0) & 0o111) === 0) return "noexec";
  return "ok";
};

/**
 * Resolves `command` against PATH from `env` (Docker's default PATH when
 * unset), as seen from the current root and working directory.
 * @returns the path to pass to execve
 * @throws {ExecError} exit 127 when not found, 126 when not executable
 */
export function lookPath(command: string, env: readonly string[], cwd = "/"): string {
  if (command.includes("/")) {
    const abs = command.startsWith("/") ? command : `${cwd.replace(/\/$/, "")}/${command}`;
    const kind = isExecutableFile(abs);
    if (kind === "ok") return command;
    throw execError(command, kind, abs);
  }
  const pathVar = env.findLast((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  for (const dir of pathVar.split(":")) {
    const candidate = `${dir === "" ? "." : dir}/${command}`;
    if (isExecutableFile(candidate.startsWith("/") ? candidate : `${cwd}/${candidate}`) === "ok") {
      return candidate;
    }
  }
  throw new ExecError(`exec: "${command}": executable file not found in $PATH`, {
    exitCode: EXIT_NOT_FOUND,
  });
}

/** The error for a failed execve(2) errno or a failed check. */
export function execError(
  command: string,
  kind: "missing" | "dir" | "noexec" | number,
  path = command,
): ExecError {
  switch (kind) {
    case "missing":
    case 2:
      return new ExecError(`exec: "${command}": stat ${path}: no such file or directory`, {
        exitCode: EXIT_NOT_FOUND,
      });
    case "dir":
    case 21:
      return new ExecError(`exec: "${command}": is a directory`, { exitCode: EXIT_NOT_EXECUTABLE });
    case "noexec":
    case 13:
      return new ExecError(`exec: "${command}": permission denied`, {
        exitCode: EXIT_NOT_EXECUTABLE,
      });
    case 8:
      return new ExecError(`exec: "${command}": exec format error`, {
        exitCode: EXIT_NOT_EXECUTABLE,
      });
    default:
      return new ExecError(`exec: "${command}": errno ${kind}`, { exitCode: EXIT_NOT_EXECUTABLE });
  }
}
