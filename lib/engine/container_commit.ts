/**
 * `docker commit`: a container's changes (its overlay upper dir) become one
 * new layer on top of its image's, with the container's config and
 * `--change` instructions applied.
 *
 * @module
 */
import { packChanges } from "./container_changes.ts";
import { applyChanges } from "../build/mod.ts";
import { type Digest, sha256 } from "../digest.ts";
import { NotFoundError } from "../errors.ts";
import type { ContainerConfig, History, ImageConfig, Reference } from "../image/mod.ts";
import type { ContainerRecord } from "./container_record.ts";
import type { ContainerService } from "./containers.ts";
import {
  commitImage,
  type CommittedImage,
  discardStaged,
  type StagedImageLayer,
} from "./image_commit.ts";
import { listImages } from "./image_records.ts";
import { stageLayer } from "./layer_stage.ts";

/** Options for {@linkcode commitContainer}. */
export interface CommitOptions {
  /** `--author`: the config's and the history entry's author. */
  author?: string | undefined;
  /** `--change`: Dockerfile instructions applied to the config. */
  changes?: readonly string[];
  /** `--message`: the history entry's comment. */
  message?: string | undefined;
  /** `--pause`: freeze a running container while its changes are read. @default true */
  pause?: boolean;
  /** Name to tag the image with. */
  reference?: Reference | undefined;
}

/**
 * Files berth puts in a container's upper dir as mount points (Docker keeps
 * them in an init layer, so they are never part of the container's changes).
 * The same list `diff` hides.
 */

/** The diff ID of an empty layer (a tar of nothing: two zero blocks). */
const EMPTY_LAYER: Digest = sha256(new Uint8Array(1024));

/**
 * Commits a container as a new image and returns its ID. An empty change set
 * adds no layer, only a history entry with `empty_layer` (as Docker does).
 * @throws {NotFoundError} `No such container: x`, or when its image is gone
 * @throws {InvalidError} for a bad `--change`, before anything is read or stored
 */
export async function commitContainer(
  service: ContainerService,
  given: string,
  options: CommitOptions = {},
): Promise<CommittedImage> {
  const store = service.store;
  const record = await service.get(given);
  const image = listImages(store).find((i) => i.id === record.Image);
  if (image === undefined) throw new NotFoundError(`No such image: ${record.Image}`);
  const config = applyChanges(containerConfig(image.config.config ?? {}, record), [
    ...(options.changes ?? []),
  ]);
  const lowers = image.chainIds.slice().reverse().map((c) => store.layers.diffPath(c));
  const pause = (options.pause ?? true) && record.State.Running && !record.State.Paused;
  if (pause) await service.pause(record.Id);
  let layer;
  try {
    layer = await stageLayer(store, packChanges(service.records.path(record.Id), lowers), {
      parent: image.chainIds[image.chainIds.length - 1],
    });
  } finally {
    if (pause) await service.unpause(record.Id);
  }
  const empty = layer.info.diffId === EMPTY_LAYER;
  if (empty) discardStaged(store, [layer]);
  const now = new Date().toISOString();
  const base = image.config;
  const history: History = {
    created: now,
    created_by: (record.Config.Cmd ?? []).join(" "),
    ...(options.author ? { author: options.author } : {}),
    ...(options.message ? { comment: options.message } : {}),
    ...(empty ? { empty_layer: true } : {}),
  };
  const out: ImageConfig = {
    created: now,
    ...(options.author ? { author: options.author } : {}),
    architecture: base.architecture,
    os: base.os,
    ...(base["os.version"] !== undefined ? { "os.version": base["os.version"] } : {}),
    ...(base["os.features"] !== undefined ? { "os.features": base["os.features"] } : {}),
    ...(base.variant !== undefined ? { variant: base.variant } : {}),
    config,
    rootfs: {
      type: "layers",
      diff_ids: [...base.rootfs.diff_ids, ...(empty ? [] : [layer.info.diffId])],
    },
    history: [...(base.history ?? []), history],
  };
  // The image's own layers are stored already: the manifest only lists them.
  const below: StagedImageLayer[] = image.manifest.layers.map((descriptor, i) => ({
    descriptor,
    info: { chainId: image.chainIds[i]!, diffId: base.rootfs.diff_ids[i]!, size: 0 },
  }));
  return await commitImage(
    store,
    out,
    empty ? below : [...below, layer],
    options.reference === undefined ? [] : [options.reference],
  );
}

/** The image's config with what the container runs as it has it. */
function containerConfig(imageConfig: ContainerConfig, record: ContainerRecord): ContainerConfig {
  const c = record.Config;
  const out: ContainerConfig = structuredClone(imageConfig);
  const set = <K extends keyof ContainerConfig>(key: K, value: ContainerConfig[K] | undefined) => {
    const empty = value === undefined || value === null || value === "" ||
      (Array.isArray(value) && value.length === 0) ||
      (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0);
    if (empty) delete out[key];
    else out[key] = value;
  };
  const exposed = (c as unknown as { ExposedPorts?: ContainerConfig["ExposedPorts"] })
    .ExposedPorts;
  set("Cmd", c.Cmd);
  set("Entrypoint", c.Entrypoint);
  set("Env", c.Env);
  set("WorkingDir", c.WorkingDir);
  set("User", c.User);
  set("ExposedPorts", exposed);
  set("Volumes", c.Volumes);
  set("Labels", c.Labels);
  set("StopSignal", c.StopSignal);
  return out;
}
