/**
 * Docker-shaped views of images: `image inspect`'s JSON, `history` rows and
 * the summaries `images` lists. The CLI (and later the API server) render them.
 *
 * @module
 */
import type { Digest } from "../digest.ts";
import { familiarName, familiarString, parseReference } from "../image/mod.ts";
import type { Store } from "../store/mod.ts";
import type { ImageRecord } from "./image_records.ts";

/** Docker's container Config with its defaults filled in. */
function dockerConfig(record: ImageRecord): Record<string, unknown> {
  const c = record.config.config ?? {};
  return {
    Hostname: "",
    Domainname: "",
    User: c.User ?? "",
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    ...(c.ArgsEscaped ? { ArgsEscaped: c.ArgsEscaped } : {}),
    Image: "",
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? "",
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(c.Shell ? { Shell: c.Shell } : {}),
  };
}

/** `docker image inspect`'s object for one image. */
export function inspectImage(store: Store, record: ImageRecord): Record<string, unknown> {
  const history = record.config.history ?? [];
  return {
    Id: record.id,
    RepoTags: record.names.map((n) => familiarString(parseReference(n))),
    RepoDigests: record.repoDigests.map((rd) => {
      const [repo, digest] = rd.split("@");
      return `${familiarName(parseReference(repo!))}@${digest}`;
    }),
    Parent: "",
    Comment: history.length === 1 ? history[0]!.comment ?? "" : "",
    Created: record.config.created ?? "0001-01-01T00:00:00Z",
    DockerVersion: typeof record.config.docker_version === "string"
      ? record.config.docker_version
      : "",
    Author: record.config.author ?? "",
    Config: dockerConfig(record),
    Architecture: record.config.architecture,
    ...(record.config.variant ? { Variant: record.config.variant } : {}),
    Os: record.config.os,
    Size: record.size,
    GraphDriver: {
      Data: {
        LowerDir: record.chainIds.slice().reverse().map((c) => store.layers.diffPath(c)).join(":"),
      },
      Name: "overlay",
    },
    RootFS: { Type: "layers", Layers: record.config.rootfs.diff_ids },
    Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
  };
}

/** One row of `docker history`. */
export interface HistoryRow {
  /** The image ID on the newest row, undefined (`<missing>`) on the others. */
  id: Digest | undefined;
  created: string | undefined;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
}

/** `docker history` rows, newest first; each non-empty step gets its layer's size. */
export function imageHistory(store: Store, record: ImageRecord): HistoryRow[] {
  const steps = record.config.history ?? [];
  const rows: HistoryRow[] = [];
  let layer = 0;
  const entries = steps.length > 0
    ? steps
    : record.config.rootfs.diff_ids.map(() => ({ created: record.config.created }));
  for (const step of entries) {
    const empty = "empty_layer" in step && step.empty_layer === true;
    const chain = empty ? undefined : record.chainIds[layer++];
    rows.push({
      id: undefined,
      created: step.created,
      createdBy: "created_by" in step ? step.created_by ?? "" : "",
      size: chain === undefined ? 0 : store.layers.info(chain)?.size ?? 0,
      comment: "comment" in step ? step.comment ?? "" : "",
      tags: [],
    });
  }
  rows.reverse();
  if (rows[0] !== undefined) {
    rows[0].id = record.id;
    rows[0].tags = record.names.map((n) => familiarString(parseReference(n)));
  }
  return rows;
}
