/**
 * The flags of `run` and of the commands that attach, in a module of their
 * own: `lib/cli/mod.ts` reads `run`'s flags before run's modules load, to
 * start the container's init early.
 *
 * @module
 */
import type { FlagSpec } from "./_args.ts";
import { CONTAINER_FLAGS } from "./_container_flags.ts";

/** `--detach-keys`, for every command that attaches. */
export const DETACH_KEYS_FLAG = {
  name: "detach-keys",
  type: "string",
  value: "string",
  description: "Override the key sequence for detaching a container",
} as const;

/** Flags of commands that attach: the detach sequence and signal proxying. */
export const ATTACH_FLAGS = [
  DETACH_KEYS_FLAG,
  {
    name: "sig-proxy",
    type: "bool",
    default: true,
    description: "Proxy received signals to the process",
  },
] as const;

/** Flags of `run`. */
export const RUN_FLAGS: FlagSpec[] = [
  {
    name: "detach",
    short: "d",
    type: "bool",
    description: "Run container in background and print container ID",
  },
  ...ATTACH_FLAGS,
  ...CONTAINER_FLAGS,
];
