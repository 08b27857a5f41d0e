/**
 * A RUN step: a real container made from the current state (its layers are
 * committed, its config need not be in the index), run to its end with its
 * output streamed, then its overlay upper dir packed as the step's layer.
 * The container is removed whatever happens.
 *
 * @module
 */
import { EngineError } from "../../errors.ts";
import { packChanges } from "../container_changes.ts";
import type { ContainerService } from "../containers.ts";
import type { ImageRecord } from "../image_records.ts";

/** What a RUN needs from the builder. */
export interface RunSpec {
  /** The intermediate image to run on. */
  image: ImageRecord;
  /** argv: the shell with the script, or the exec form. */
  args: string[];
  /** Build args in scope, `K=V` (the config's Env wins over them). */
  env: string[];
  user: string;
  workdir: string;
  /** `--network`, when given. */
  network?: string;
  /** Host files bind-mounted read-only (`host:container`), e.g. a heredoc script. */
  binds?: string[];
  output: (bytes: Uint8Array) => void;
  /** Aborting kills the step's container (the build was interrupted). */
  signal?: AbortSignal;
}

/**
 * Runs the step and hands its upper dir's tar to `store` (which must
 * consume it before returning).
 * @throws {EngineError} `process "/bin/sh -c false" did not complete successfully: exit code: 1`
 */
export async function runStep<T>(
  containers: ContainerService,
  spec: RunSpec,
  store: (tar: ReadableStream<Uint8Array>) => Promise<T>,
): Promise<T> {
  const imageEnv = spec.image.config.config?.Env ?? [];
  const names = new Set(imageEnv.map((e) => e.slice(0, e.indexOf("="))));
  const record = await containers.createFrom(spec.image, {
    imageName: spec.image.id,
    command: spec.args,
    entrypoint: "",
    env: [...spec.env.filter((e) => !names.has(e.slice(0, e.indexOf("=")))), ...imageEnv],
    user: spec.user,
    ...(spec.workdir !== "" ? { workdir: spec.workdir } : {}),
    ...(spec.network !== undefined ? { network: { network: spec.network } } : {}),
    labels: { "io.berth.build": "run" },
    ...(spec.binds !== undefined ? { binds: spec.binds.map((b) => `${b}:ro`) } : {}),
  });
  const kill = () => containers.kill(record.Id, "SIGKILL").catch(() => {});
  spec.signal?.addEventListener("abort", kill);
  try {
    spec.signal?.throwIfAborted();
    const result = await containers.runAttached(record.Id, {
      output: (_stream, bytes) => spec.output(bytes),
    });
    spec.signal?.throwIfAborted();
    if (result.exitCode !== 0) {
      throw new EngineError(
        `process "${
          spec.args.join(" ")
        }" did not complete successfully: exit code: ${result.exitCode}`,
        { exitCode: 1 },
      );
    }
    const dir = containers.records.path(record.Id);
    const lowers = spec.image.chainIds.slice().reverse().map((c) =>
      containers.store.layers.diffPath(c)
    );
    return await store(packChanges(dir, lowers));
  } finally {
    spec.signal?.removeEventListener("abort", kill);
    await containers.remove(record.Id, true, true).catch(() => {});
  }
}
