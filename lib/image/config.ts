/**
 * The image configuration blob (OCI image-spec config.md), with the fields
 * Docker adds (`Healthcheck`, `OnBuild`, `Shell`, `container_config`, ...).
 *
 * @module
 */
import type { Digest } from "../digest.ts";
import { decodeObject, Fields } from "./_fields.ts";

/** Docker's HEALTHCHECK; durations are in nanoseconds. */
export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The execution parameters of a container made from the image. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  /** Docker also writes Hostname, Tty, Image and other container fields. */
  [extra: string]: unknown;
}

/** One step of the image's build history. */
export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The image configuration. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: Digest[] };
  history?: History[];
  /** Docker's extras: `container`, `container_config`, `docker_version`, ... */
  [extra: string]: unknown;
}

const WHAT = "image config";

function checkContainerConfig(config: Fields): void {
  for (const key of ["User", "WorkingDir", "StopSignal"]) config.string(key, false);
  for (const key of ["Env", "Entrypoint", "Cmd", "OnBuild", "Shell"]) {
    config.strings(key, { nullable: true });
  }
  config.object("ExposedPorts", { nullable: true });
  config.object("Volumes", { nullable: true });
  config.stringMap("Labels", true);
  config.boolean("ArgsEscaped");
  const health = config.object("Healthcheck");
  if (health !== undefined) {
    health.strings("Test", { nullable: true });
    for (const key of ["Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"]) {
      health.integer(key, false);
    }
  }
}

function checkRootfs(rootfs: Fields): void {
  const type = rootfs.string("type");
  if (type !== "layers") rootfs.fail("type", `is "${type}", expected "layers"`);
  // Moby writes `diff_ids` with omitempty, so an image without layers lacks it.
  if (rootfs.obj.diff_ids === undefined || rootfs.obj.diff_ids === null) rootfs.obj.diff_ids = [];
  rootfs.digests("diff_ids");
}

/**
 * Decodes and validates an image config, keeping unknown fields and key
 * order. A missing `rootfs.diff_ids` (moby omits an empty one) becomes `[]`.
 * @param input the config blob's bytes or text
 * @returns the decoded config
 * @throws {InvalidError} naming the first bad field, e.g.
 *   `Invalid image config: "rootfs.diff_ids[0]" is not a digest`
 */
export function parseImageConfig(input: Uint8Array | string): ImageConfig {
  const fields = new Fields(WHAT, decodeObject(input, WHAT));
  for (const key of ["created", "author", "os.version", "variant"]) fields.string(key, false);
  fields.string("architecture");
  fields.string("os");
  fields.strings("os.features");
  const config = fields.object("config");
  if (config !== undefined) checkContainerConfig(config);
  checkRootfs(fields.object("rootfs", { required: true }) as Fields);
  for (const step of fields.objects("history", false) ?? []) {
    for (const key of ["created", "created_by", "author", "comment"]) step.string(key, false);
    step.boolean("empty_layer");
  }
  return fields.obj as unknown as ImageConfig;
}
