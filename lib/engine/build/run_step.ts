/**
 * A RUN step: a real container made from the current state (its layers are
 * committed, its config need not be in the index), run to its end with its
 * output streamed, then its overlay upper dir packed as the step's layer.
 * The container is removed whatever happens.
 *
 * @module
 */
import { EngineError } from "../../errors.ts";
import { packUpper } from "../../archive/pack_upper.ts";
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
    const lowers = spec.image.chainIds.map((c) => containers.store.layers.diffPath(c));
    return await store(packUpper(`${dir}/upper`, { exclude: mountStubs(dir, lowers) }));
  } finally {
    spec.signal?.removeEventListener("abort", kill);
    await containers.remove(record.Id, true, true).catch(() => {});
  }
}

/** The files berth bind-mounts over and always leaves out of a RUN's layer, as BuildKit. */
const ENGINE_FILES = ["etc/hosts", "etc/resolv.conf", "etc/hostname"];

/**
 * What the runtime created in the upper dir only to mount on (an empty
 * file or directory no lower layer has, at a mount's destination), and the
 * files the engine provides: left out of the layer, as BuildKit removes its
 * mount stubs.
 */
function mountStubs(containerDir: string, lowers: readonly string[]): string[] {
  const out = new Set(ENGINE_FILES);
  let mounts: { destination?: string }[] = [];
  try {
    const spec = JSON.parse(Deno.readTextFileSync(`${containerDir}/bundle/config.json`));
    mounts = Array.isArray(spec.mounts) ? spec.mounts : [];
  } catch {
    // no spec: only the engine's files are left out
  }
  for (const { destination } of mounts) {
    if (typeof destination !== "string") continue;
    const rel = destination.replace(/^\/+/, "").replace(/\/+$/, "");
    if (rel === "" || out.has(rel)) continue;
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(`${containerDir}/upper/${rel}`);
    } catch {
      continue;
    }
    const empty = info.isFile
      ? info.size === 0
      : info.isDirectory && [...Deno.readDirSync(`${containerDir}/upper/${rel}`)].length === 0;
    const inLower = lowers.some((l) => {
      try {
        Deno.lstatSync(`${l}/${rel}`);
        return true;
      } catch {
        return false;
      }
    });
    if (empty && !inLower) out.add(rel);
  }
  return [...out];
}
