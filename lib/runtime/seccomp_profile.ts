/**
 * Turns a Docker-format seccomp profile (moby's `default.json`, the
 * containers-common `seccomp.json`, or a user's `--security-opt
 * seccomp=FILE`) into `linux.seccomp` for x86-64 and a capability set, as
 * dockerd does: entries apply only when their `includes` hold and their
 * `excludes` do not.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";
import type { Seccomp, SeccompArg } from "./spec.ts";

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface DockerEntry {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  includes?: Filter;
  excludes?: Filter;
}

const ARCH = "amd64";

/** Whether kernel release `running` ("6.1.0-13-amd64") is at least `min` ("4.8"). */
export const kernelAtLeast = (min: string, running: string): boolean => {
  const [a = 0, b = 0] = min.split(".").map((n) => parseInt(n, 10) || 0);
  const [x = 0, y = 0] = running.split(".").map((n) => parseInt(n, 10) || 0);
  return x > a || (x === a && y >= b);
};

/**
 * Resolves a Docker-format profile for the given bounding capabilities.
 * @param profile the parsed profile JSON
 * @param caps the container's capabilities (`CAP_...`)
 * @param kernel the running kernel's release, for `minKernel` @default Deno.osRelease()
 * @throws {InvalidError} when it is not a profile
 */
export function seccompFromDockerProfile(
  profile: unknown,
  caps: readonly string[],
  kernel = Deno.osRelease(),
): Seccomp {
  const p = profile as {
    defaultAction?: unknown;
    defaultErrnoRet?: number;
    syscalls?: DockerEntry[];
  };
  if (typeof p !== "object" || p === null || typeof p.defaultAction !== "string") {
    throw new InvalidError(`Invalid seccomp profile: "defaultAction" must be a string`);
  }
  const have = new Set(caps.map((c) => (c.startsWith("CAP_") ? c : `CAP_${c}`)));
  const syscalls: NonNullable<Seccomp["syscalls"]> = [];
  for (const e of p.syscalls ?? []) {
    const inc = e.includes ?? {};
    const exc = e.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(ARCH)) continue;
    if (exc.arches?.includes(ARCH)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => have.has(c))) continue;
    if (exc.caps?.some((c) => have.has(c))) continue;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel, kernel)) continue;
    const names = e.names ?? (e.name ? [e.name] : []);
    if (names.length === 0) continue;
    syscalls.push({
      names,
      action: e.action,
      ...(e.errnoRet === undefined ? {} : { errnoRet: e.errnoRet }),
      ...(e.args?.length
        ? {
          args: e.args.map((a) => ({
            index: a.index,
            value: a.value,
            valueTwo: a.valueTwo ?? 0,
            op: a.op,
          })),
        }
        : {}),
    });
  }
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet === undefined ? {} : { defaultErrnoRet: p.defaultErrnoRet }),
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls,
  };
}
