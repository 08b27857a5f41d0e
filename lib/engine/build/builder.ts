/**
 * `build`: a Dockerfile's stages run in dependency order (only those the
 * target needs), each instruction a step on an image state (config plus
 * layers). Config-only instructions change the config and add a history
 * entry with `empty_layer`; RUN, COPY, ADD (and a WORKDIR that must create
 * its directory) add a layer. Every step is looked up in, and recorded to,
 * the build cache, so a rebuild with nothing changed gives the same image ID.
 *
 * @module
 */
import { type Digest, sha256 } from "../../digest.ts";
import { EngineError, InvalidError, NotFoundError } from "../../errors.ts";
import {
  type ArgInstr,
  type CopyInstr,
  type Dockerfile,
  DockerfileError,
  expandInstruction,
  type Instr,
  parse,
  resolveMetaArgs,
  type RunInstr,
  type Stage,
  StageScope,
} from "../../build/dockerfile/mod.ts";
import {
  type BuildContext,
  cleanPath,
  digestSources,
  lookup,
  resolveCopy,
} from "../../build/context/mod.ts";
import {
  currentPlatform,
  encodeJson,
  formatReference,
  type ImageConfig,
  MEDIA_TYPES,
  parseReference,
  type Reference,
} from "../../image/mod.ts";
import type { Store } from "../../store/mod.ts";
import { tempPath } from "../../store/tmp.ts";
import { commitImage, type CommittedImage } from "../image_commit.ts";
import { type ImageRecord, resolveImage } from "../image_records.ts";
import type { ContainerService } from "../containers.ts";
import { type CachedLayer, type CacheEntry, cacheKey, readCache, writeCache } from "./cache.ts";
import {
  applyConfigInstr,
  commandArgs,
  DEFAULT_SHELL,
  goQuoteList,
  isConfigOnly,
} from "./config_step.ts";
import type { LayerFile, Owner } from "./copy.ts";

// What only a step that is not cached needs (tar-stream, node's buffer, the runtime,
// the layer store) is loaded when such a step comes: a cached rebuild never loads it.
const copyModule = () => import("./copy.ts");
const layerView = async (store: Store, chains: readonly Digest[]) =>
  (await import("./fs_view.ts")).layerContext(store, [...chains]);

/** What the builder reports as it goes (the CLI prints it). */
export type BuildEvent =
  | { type: "step"; id: number; name: string }
  | { type: "output"; id: number; data: Uint8Array }
  | { type: "cached"; id: number }
  | { type: "done"; id: number; ms: number }
  | { type: "error"; id: number; ms: number; message: string };

/** Options for {@linkcode buildImage}. */
export interface BuildOptions {
  /** The Dockerfile's text. */
  dockerfile: string;
  /** Its name, for messages. @default "Dockerfile" */
  dockerfileName?: string;
  context: BuildContext;
  tags?: readonly Reference[];
  buildArgs?: ReadonlyMap<string, string>;
  target?: string;
  noCache?: boolean;
  labels?: Record<string, string>;
  /** `--network` for RUN steps. */
  network?: string;
  /** Runs RUN steps. */
  containers: () => Promise<ContainerService>;
  /** Fetches a base image the store lacks (the pull code); undefined: no pull. */
  pull?: (ref: Reference) => Promise<void>;
  onEvent?: (event: BuildEvent) => void;
  /** Interrupts the build: a running RUN is killed, its container removed. */
  signal?: AbortSignal;
}

/** A build failure at a Dockerfile line: Docker's message, and where. */
export class BuildError extends EngineError {
  readonly file: string;
  readonly line: number;
  readonly endLine: number;
  constructor(
    message: string,
    where: { file: string; line: number; endLine: number },
    cause?: unknown,
  ) {
    super(message, { exitCode: 1, cause });
    this.file = where.file;
    this.line = where.line;
    this.endLine = where.endLine;
  }
}

/** An image state: the config as stored, and its layers. */
interface State {
  /** The cache's name for it: the base image's ID, or the digest of `configText`. */
  id: string;
  configText: string;
  layers: CachedLayer[];
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Builds an image and tags it.
 * @throws {DockerfileError} for a malformed Dockerfile
 * @throws {BuildError} for a failing step (Docker's message), exit code 1
 */
export async function buildImage(store: Store, options: BuildOptions): Promise<CommittedImage> {
  const file = options.dockerfileName ?? "Dockerfile";
  const df = parse(options.dockerfile, { file });
  return await new Builder(store, options, df, file).run();
}

class Builder {
  readonly #store: Store;
  readonly #options: BuildOptions;
  readonly #df: Dockerfile;
  readonly #file: string;
  readonly #meta: Map<string, string>;
  readonly #escape: string;
  readonly #built = new Map<number, Promise<State>>();
  readonly #building = new Set<number>();
  #step = 0;

  constructor(store: Store, options: BuildOptions, df: Dockerfile, file: string) {
    this.#store = store;
    this.#options = options;
    this.#df = df;
    this.#file = file;
    this.#escape = df.directives.escape;
    const platform = currentPlatform();
    const plat = `${platform.os}/${platform.architecture}${
      platform.variant ? `/${platform.variant}` : ""
    }`;
    const builtins = new Map([
      ["BUILDPLATFORM", plat],
      ["BUILDOS", platform.os],
      ["BUILDARCH", platform.architecture],
      ["TARGETPLATFORM", plat],
      ["TARGETOS", platform.os],
      ["TARGETARCH", platform.architecture],
    ]);
    this.#meta = resolveMetaArgs(df.metaArgs, {
      buildArgs: options.buildArgs ?? new Map(),
      builtins,
      escape: this.#escape,
    });
  }

  async run(): Promise<CommittedImage> {
    const stages = this.#df.stages;
    if (stages.length === 0) {
      throw new DockerfileError("file with no instructions", { file: this.#file, line: 1 });
    }
    let target = stages[stages.length - 1]!;
    if (this.#options.target !== undefined) {
      const wanted = this.#options.target.toLowerCase();
      const hit = stages.find((s) => s.name === wanted);
      if (hit === undefined) {
        throw new EngineError(
          `failed to solve: target stage "${this.#options.target}" could not be found`,
          {
            exitCode: 1,
          },
        );
      }
      target = hit;
    }
    // The stages the target needs, built in file order (as BuildKit schedules them);
    // a dependency found only once its ARGs are known is built when its step asks.
    const needed = new Set<number>();
    const visit = (stage: Stage) => {
      if (needed.has(stage.index)) return;
      needed.add(stage.index);
      for (const dep of this.#dependencies(stage)) visit(dep);
    };
    visit(target);
    for (const index of [...needed].sort((a, b) => a - b)) {
      if (index !== target.index) await this.#stage(index);
    }
    const state = await this.#stage(target.index);
    const config = JSON.parse(state.configText) as ImageConfig;
    if (this.#options.labels !== undefined && Object.keys(this.#options.labels).length > 0) {
      config.config = { ...(config.config ?? {}) };
      config.config.Labels = { ...(config.config.Labels ?? {}), ...this.#options.labels };
    }
    return await commitImage(
      this.#store,
      config,
      state.layers.map((l) => ({
        descriptor: l.descriptor,
        info: { chainId: l.chainId, diffId: l.diffId, size: l.size },
      })),
      this.#options.tags ?? [],
    );
  }

  /** The stage by name or index (from `FROM x` or `COPY --from=x`), or undefined for an image. */
  #stageNamed(name: string, before: number): Stage | undefined {
    const lower = name.toLowerCase();
    const byName = this.#df.stages.find((s) => s.name === lower);
    if (byName !== undefined) return byName;
    if (/^\d+$/.test(name)) {
      const index = Number(name);
      if (index >= before) {
        throw new EngineError(
          `failed to solve: invalid stage index ${name}: must be lower than ${before}`,
          { exitCode: 1 },
        );
      }
      return this.#df.stages[index];
    }
    return undefined;
  }

  /** The earlier stages a stage names (FROM, `COPY --from`), as far as meta ARGs tell. */
  #dependencies(stage: Stage): Stage[] {
    const names: string[] = [];
    const word = (w: string) => {
      try {
        return expandInstruction({ ...stage.from, image: w }, this.#meta, this.#escape).image;
      } catch {
        return w;
      }
    };
    names.push(word(stage.from.image));
    for (const instr of stage.instructions) {
      if ((instr.keyword === "COPY" || instr.keyword === "ADD") && instr.from !== undefined) {
        names.push(word(instr.from));
      }
    }
    const out: Stage[] = [];
    for (const name of names) {
      const lower = name.toLowerCase();
      const hit = this.#df.stages.find((s) => s.name === lower) ??
        (/^\d+$/.test(name) ? this.#df.stages[Number(name)] : undefined);
      if (hit !== undefined && hit.index !== stage.index) out.push(hit);
    }
    return out;
  }

  #stage(index: number): Promise<State> {
    // Stages run one at a time: one asked for while it runs depends on itself.
    if (this.#building.has(index)) {
      const stage = this.#df.stages[index]!;
      return Promise.reject(
        new EngineError(
          `failed to solve: circular dependency detected on stage: ${stage.name ?? stage.index}`,
          { exitCode: 1 },
        ),
      );
    }
    let promise = this.#built.get(index);
    if (promise === undefined) {
      this.#building.add(index);
      promise = this.#runStage(this.#df.stages[index]!).finally(() => this.#building.delete(index));
      this.#built.set(index, promise);
    }
    return promise;
  }

  #where(instr: { line: number; endLine: number }) {
    return { file: this.#file, line: instr.line, endLine: instr.endLine };
  }

  /** Runs `fn` as a numbered step, reporting it; failures name the line. */
  async #vertex<T>(
    name: string,
    instr: { line: number; endLine: number },
    fn: (id: number) => Promise<T>,
  ): Promise<T> {
    if (this.#options.signal?.aborted) throw canceled();
    const id = ++this.#step;
    const start = performance.now();
    this.#emit({ type: "step", id, name });
    try {
      const out = await fn(id);
      this.#emit({ type: "done", id, ms: performance.now() - start });
      return out;
    } catch (caught) {
      const error = this.#options.signal?.aborted ? canceled() : caught;
      const message = error instanceof Error ? error.message : String(error);
      this.#emit({ type: "error", id, ms: performance.now() - start, message });
      if (error instanceof BuildError || error instanceof DockerfileError) throw error;
      throw new BuildError(`failed to solve: ${message}`, this.#where(instr), error);
    }
  }

  /** Runs a step that shows no progress line; a failure names its line. */
  async #atLine<T>(instr: { line: number; endLine: number }, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof BuildError || error instanceof DockerfileError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new BuildError(`failed to solve: ${message}`, this.#where(instr), error);
    }
  }

  #emit(event: BuildEvent): void {
    this.#options.onEvent?.(event);
  }

  async #runStage(stage: Stage): Promise<State> {
    const from = expandInstruction(stage.from, this.#meta, this.#escape);
    let vertices = 1 + stage.instructions.filter((i) => isLayerStep(i.keyword)).length;
    const label = (n: number) =>
      `[${stage.name ?? (this.#df.stages.length > 1 ? `stage-${stage.index}` : "")}${
        stage.name !== undefined || this.#df.stages.length > 1 ? " " : ""
      }${n}/${vertices}]`;
    let state: State;
    let onBuild: string[] = [];
    const base = this.#stageNamed(from.image, stage.index);
    if (base !== undefined && base.index !== stage.index) {
      state = await this.#stage(base.index);
    } else if (from.image.toLowerCase() === "scratch") {
      const platform = currentPlatform();
      const config: ImageConfig = {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
        config: { Env: [DEFAULT_PATH] },
        rootfs: { type: "layers", diff_ids: [] },
      };
      const text = new TextDecoder().decode(encodeJson(config));
      state = { id: "scratch", configText: text, layers: [] };
    } else {
      const image = await this.#vertex(
        `${label(1)} FROM ${fullName(from.image)}`,
        stage.from,
        () => this.#baseImage(from.image),
      );
      const config = structuredClone(image.config);
      onBuild = config.config?.OnBuild ?? [];
      if (config.config !== undefined) delete config.config.OnBuild;
      state = {
        id: image.id,
        configText: new TextDecoder().decode(encodeJson(config)),
        layers: image.manifest.layers.map((descriptor, i) => ({
          descriptor,
          diffId: image.config.rootfs.diff_ids[i]!,
          chainId: image.chainIds[i]!,
          size: this.#store.layers.info(image.chainIds[i]!)?.size ?? 0,
        })),
      };
    }
    const baseConfig = JSON.parse(state.configText) as ImageConfig;
    if (!(baseConfig.config?.Env ?? []).some((e) => e.startsWith("PATH="))) {
      // BuildKit gives a stage whose base has no PATH the default one.
      baseConfig.config = { ...(baseConfig.config ?? {}) };
      baseConfig.config.Env = [...(baseConfig.config.Env ?? []), DEFAULT_PATH];
      const text = new TextDecoder().decode(encodeJson(baseConfig));
      state = { id: sha256(text), configText: text, layers: state.layers };
    }
    const baseEnv = baseConfig.config?.Env ?? [];
    const scope = new StageScope({
      env: baseEnv,
      metaArgs: this.#meta,
      buildArgs: this.#options.buildArgs ?? new Map(),
      escape: this.#escape,
    });
    const instrs: Instr[] = [];
    for (const trigger of onBuild) {
      const parsed = parse(`FROM scratch\n${trigger}\n`, { file: this.#file });
      instrs.push(
        ...parsed.stages[0]!.instructions.map((i) => ({
          ...i,
          line: stage.line,
          endLine: stage.line,
        })),
      );
    }
    instrs.push(...stage.instructions);
    // ONBUILD triggers are steps of this stage too.
    vertices = 1 + instrs.filter((i) => isLayerStep(i.keyword)).length;
    let n = 1;
    for (const instr of instrs) {
      if (instr.keyword === "ARG") {
        await this.#atLine(instr, () => scope.declare(instr as ArgInstr));
        continue;
      }
      const expanded = expandStep(instr, scope.vars, this.#escape, this.#where(instr));
      if (expanded.keyword === "ENV") scope.setEnv(expanded);
      if (isConfigOnly(expanded.keyword)) {
        const before = state;
        state = await this.#atLine(instr, () => this.#configStep(before, expanded, scope));
        continue;
      }
      n++;
      state = await this.#vertex(
        `${label(n)} ${stepText(instr)}`,
        instr,
        (id) => this.#layerStep(id, state, expanded, scope),
      );
    }
    return state;
  }

  async #baseImage(name: string): Promise<ImageRecord> {
    try {
      return resolveImage(this.#store, name);
    } catch (error) {
      if (!(error instanceof NotFoundError) || this.#options.pull === undefined) throw error;
    }
    const ref = parseReference(name);
    await this.#options.pull(ref);
    return resolveImage(this.#store, name);
  }

  /** The cache key parts shared by every step. */
  #keyParts(state: State, instr: Instr, scope: StageScope): string[] {
    const { line: _l, endLine: _e, column: _c, ...rest } = instr;
    const args = [...scope.args].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
    return [state.id, JSON.stringify(rest), JSON.stringify(args)];
  }

  #cached(key: Digest): CacheEntry | undefined {
    return this.#options.noCache ? undefined : readCache(this.#store, key);
  }

  #fromEntry(entry: CacheEntry): State {
    return { id: sha256(entry.config), configText: entry.config, layers: entry.layers };
  }

  /** A config-only instruction, cached like every step (its history time included). */
  async #configStep(state: State, instr: Instr, scope: StageScope): Promise<State> {
    const key = cacheKey(this.#keyParts(state, instr, scope));
    const hit = this.#cached(key);
    if (hit !== undefined) return this.#fromEntry(hit);
    const config = JSON.parse(state.configText) as ImageConfig;
    config.config = { ...(config.config ?? {}) };
    const author: { value?: string } = {};
    const createdBy = applyConfigInstr(config.config, instr, author);
    if (author.value !== undefined) config.author = author.value;
    const next = this.#withHistory(config, createdBy, true, state.layers);
    await this.#store.locked(() => writeCache(this.#store, key, next.entry));
    return next.state;
  }

  #withHistory(
    config: ImageConfig,
    createdBy: string,
    empty: boolean,
    layers: CachedLayer[],
  ): { state: State; entry: CacheEntry } {
    const now = new Date().toISOString();
    config.created = now;
    config.rootfs = { type: "layers", diff_ids: layers.map((l) => l.diffId) };
    config.history = [
      ...(config.history ?? []),
      {
        created: now,
        created_by: createdBy,
        comment: "buildkit.dockerfile.v0",
        ...(empty ? { empty_layer: true } : {}),
      },
    ];
    const text = new TextDecoder().decode(encodeJson(config));
    const entry: CacheEntry = { config: text, layers, created: now };
    return { state: this.#fromEntry(entry), entry };
  }

  /** A step that adds a layer (RUN, COPY, ADD, WORKDIR). */
  async #layerStep(id: number, state: State, instr: Instr, scope: StageScope): Promise<State> {
    const parts = this.#keyParts(state, instr, scope);
    const config = JSON.parse(state.configText) as ImageConfig;
    config.config = { ...(config.config ?? {}) };
    const cc = config.config;
    switch (instr.keyword) {
      case "WORKDIR": {
        const dir = cleanPath(
          instr.value.startsWith("/") ? instr.value : `${cc.WorkingDir || "/"}/${instr.value}`,
        );
        cc.WorkingDir = dir;
        const key = cacheKey(parts);
        const hit = this.#cached(key);
        if (hit !== undefined) return this.#cachedStep(id, hit);
        const view = await layerView(this.#store, state.layers.map((l) => l.chainId));
        const have = lookup(view, dir.slice(1), true);
        if (have !== undefined || dir === "/") {
          if (have !== undefined && have.type !== "directory") {
            throw new EngineError(`mkdir ${dir}: not a directory`, { exitCode: 1 });
          }
          const next = this.#withHistory(config, `WORKDIR ${dir}`, true, state.layers);
          await this.#store.locked(() => writeCache(this.#store, key, next.entry));
          return next.state;
        }
        const owner = await this.#userOwner(cc.User ?? "", view);
        const { packLayer, withParents } = await copyModule();
        const files = withParents(
          [{
            path: dir,
            type: "directory",
            mode: 0o755,
            uid: owner.uid,
            gid: owner.gid,
            mtime: new Date(),
            linkTarget: "",
            size: 0,
          }],
          view,
          { uid: 0, gid: 0 },
        );
        return await this.#storeStep(config, state, `WORKDIR ${dir}`, packLayer(files), key);
      }
      case "RUN":
        return await this.#runInstr(id, state, config, instr, scope, parts);
      case "COPY":
      case "ADD":
        return await this.#copyInstr(id, state, config, instr, parts);
      default:
        throw new InvalidError(`unknown instruction: ${instr.keyword}`);
    }
  }

  #cachedStep(id: number, entry: CacheEntry): State {
    this.#emit({ type: "cached", id });
    return this.#fromEntry(entry);
  }

  async #userOwner(user: string, view: BuildContext): Promise<Owner> {
    if (user === "") return { uid: 0, gid: 0 };
    try {
      return await (await copyModule()).resolveChown(user, view);
    } catch {
      return { uid: 0, gid: 0 };
    }
  }

  /** Stores a layer tar and records the step's new state in the cache, in one locked commit. */
  async #storeStep(
    config: ImageConfig,
    state: State,
    createdBy: string,
    tar: ReadableStream<Uint8Array>,
    key: Digest,
  ): Promise<State> {
    let next: State | undefined;
    const { storeLayer } = await import("./layer.ts");
    await storeLayer(this.#store, tar, state.layers.at(-1)?.chainId, (layer) => {
      const made = this.#withHistory(config, createdBy, false, [...state.layers, layer]);
      writeCache(this.#store, key, made.entry);
      next = made.state;
    });
    return next!;
  }

  async #runInstr(
    id: number,
    state: State,
    config: ImageConfig,
    instr: RunInstr,
    scope: StageScope,
    parts: string[],
  ): Promise<State> {
    const key = cacheKey(parts);
    const hit = this.#cached(key);
    if (hit !== undefined) return this.#cachedStep(id, hit);
    if (instr.mounts.length > 0) {
      throw new InvalidError(`RUN --mount is not supported by berth: ${instr.mounts[0]}`);
    }
    if (instr.security !== undefined && instr.security !== "sandbox") {
      throw new InvalidError(`RUN --security=${instr.security} is not supported by berth`);
    }
    const cc = config.config!;
    const shell = cc.Shell ?? DEFAULT_SHELL;
    let args: string[];
    const only = instr.command.form === "shell" && instr.heredocs.length === 1 &&
      /^<<-?["']?(\w+)["']?$/.test(instr.command.script.trim());
    let script: string | undefined;
    if (only) {
      // `RUN <<EOF`: as BuildKit, the heredoc becomes an executable file at /dev/pipes/EOF,
      // run by the shell (so a #! line picks its interpreter).
      const doc = instr.heredocs[0]!;
      // Named for this process: another berth's store open clears only what dead ones left.
      script = tempPath(this.#store.tmpDir, "-heredoc");
      await Deno.writeTextFile(script, doc.content, { createNew: true, mode: 0o700 });
      await Deno.chmod(script, 0o755);
      args = [...shell, `/dev/pipes/${doc.name}`];
    } else if (instr.command.form === "shell" && instr.heredocs.length > 0) {
      // Heredocs feeding a command: the shell reads them from the full text.
      let text = instr.command.script;
      for (const doc of instr.heredocs) text += `\n${doc.content}${doc.name}`;
      args = [...shell, text];
    } else {
      args = commandArgs(instr.command, shell);
    }
    const argList = [...scope.args].map(([k, v]) => `${k}=${v}`);
    const prefix = argList.length > 0 ? `|${argList.length} ${argList.join(" ")} ` : "";
    const createdBy = `RUN ${prefix}${args.join(" ")} # buildkit`;
    const image = intermediateImage(state);
    try {
      return await this.#runIn(
        id,
        state,
        config,
        image,
        args,
        argList,
        instr,
        createdBy,
        key,
        script,
      );
    } finally {
      if (script !== undefined) await Deno.remove(script).catch(() => {});
    }
  }

  async #runIn(
    id: number,
    state: State,
    config: ImageConfig,
    image: ImageRecord,
    args: string[],
    argList: string[],
    instr: RunInstr,
    createdBy: string,
    key: Digest,
    script: string | undefined,
  ): Promise<State> {
    const cc = config.config!;
    // `RUN --network=default` (or none given) is the build's `--network`.
    const network = instr.network === undefined || instr.network === "default"
      ? this.#options.network
      : instr.network;
    const { runStep } = await import("./run_step.ts");
    return await runStep(await this.#options.containers(), {
      image,
      ...(script !== undefined
        ? { binds: [`${script}:/dev/pipes/${instr.heredocs[0]!.name}`] }
        : {}),
      args,
      env: argList,
      user: cc.User ?? "",
      workdir: cc.WorkingDir ?? "",
      ...(network !== undefined ? { network } : {}),
      output: (data) => this.#emit({ type: "output", id, data }),
      ...(this.#options.signal !== undefined ? { signal: this.#options.signal } : {}),
    }, (tar) => this.#storeStep(config, state, createdBy, tar, key));
  }

  async #copyInstr(
    id: number,
    state: State,
    config: ImageConfig,
    instr: CopyInstr,
    parts: string[],
  ): Promise<State> {
    if (instr.exclude.length > 0) {
      throw new InvalidError(`${instr.keyword} --exclude is not supported by berth`);
    }
    if (instr.parents) throw new InvalidError("COPY --parents is not supported by berth");
    const cc = config.config!;
    const workdir = cc.WorkingDir || "/";
    const urls = instr.keyword === "ADD" ? instr.sources.filter((s) => /^https?:\/\//.test(s)) : [];
    const locals = instr.sources.filter((s) => !urls.includes(s));
    if (locals.length === 0 && urls.length === 0 && instr.inline.length === 0) {
      throw new InvalidError(`${instr.keyword} failed: no source files were specified`);
    }
    const chmod = instr.chmod !== undefined
      ? (await copyModule()).parseChmod(instr.chmod)
      : undefined;
    const dest = instr.sources.length + instr.inline.length > 1 && !instr.dest.endsWith("/")
      ? `${instr.dest}/`
      : instr.dest;
    // The key needs no walk of the image's layers: what the step makes follows from the
    // parent state (in `parts`), the instruction and its sources. A source stage is
    // named by its layers' chain IDs; context sources by their content.
    let source: BuildContext = this.#options.context;
    let fromChains: Digest[] | undefined;
    if (instr.from !== undefined) {
      const stage = this.#stageNamed(instr.from, Infinity);
      fromChains = stage !== undefined
        ? (await this.#stage(stage.index)).layers.map((l) => l.chainId)
        : (await this.#baseImage(instr.from)).chainIds;
    }
    const fetched = await Promise.all(
      urls.map(async (u) => (await copyModule()).fetchUrl(u, instr.checksum)),
    );
    const sourceKey = fromChains !== undefined
      ? `from ${fromChains.join(",")} ${locals.join(" ")}`
      : locals.length > 0
      ? await digestSources(
        source,
        resolveCopy(source, locals, dest, {
          instruction: instr.keyword,
          workdir,
        }),
      )
      : "";
    const key = cacheKey([
      ...parts,
      sourceKey,
      ...fetched.map((f) => `${f.name}:${f.digest}`),
      ...instr.inline.map((d) => JSON.stringify([d.name, d.content])),
    ]);
    const hit = this.#cached(key);
    if (hit !== undefined) return this.#cachedStep(id, hit);
    const { filesFromItems, packLayer, resolveChown, unpackArchive, withParents } =
      await copyModule();
    const view = await layerView(this.#store, state.layers.map((l) => l.chainId));
    const keepOwner = fromChains !== undefined;
    if (fromChains !== undefined) source = await layerView(this.#store, fromChains);
    const owner = instr.chown !== undefined ? await resolveChown(instr.chown, view) : undefined;
    const target = cleanPath(instr.dest.startsWith("/") ? instr.dest : `${workdir}/${instr.dest}`);
    const isDirectory = (p: string) => lookup(view, p.slice(1), true)?.type === "directory";
    const items = locals.length > 0
      ? resolveCopy(source, locals, dest, { instruction: instr.keyword, workdir, isDirectory })
      : [];
    const intoDir = instr.dest.endsWith("/") || instr.sources.length + instr.inline.length > 1 ||
      isDirectory(target);
    const join = (name: string) =>
      intoDir ? (target === "/" ? `/${name}` : `${target}/${name}`) : target;
    let files: LayerFile[] = [];
    if (instr.keyword === "ADD") {
      for (const item of items) {
        if (item.entry.type === "file") {
          const unpacked = await unpackArchive(
            await source.readFile(item.entry.path),
            target,
            owner,
          );
          if (unpacked !== undefined) {
            files.push(...unpacked);
            continue;
          }
        }
        files.push(
          ...filesFromItems(source, [item], {
            ...(owner ? { owner } : {}),
            keepOwner,
            ...(chmod !== undefined ? { chmod } : {}),
          }),
        );
      }
    } else {
      files = filesFromItems(source, items, {
        ...(owner ? { owner } : {}),
        keepOwner,
        ...(chmod !== undefined ? { chmod } : {}),
      });
    }
    const plain = (name: string, bytes: Uint8Array, mode: number, mtime: Date): LayerFile => ({
      path: join(name),
      type: "file",
      mode: chmod ?? mode,
      uid: owner?.uid ?? 0,
      gid: owner?.gid ?? 0,
      mtime,
      linkTarget: "",
      size: bytes.byteLength,
      body: () => Promise.resolve(bytes),
    });
    for (const f of fetched) files.push(plain(f.name, f.bytes, 0o600, f.mtime));
    for (const doc of instr.inline) {
      files.push(plain(doc.name, new TextEncoder().encode(doc.content), 0o644, new Date()));
    }
    // A directory source makes its destination even when it holds nothing.
    const dirSource = locals.some((src) => {
      const rel = cleanPath(src).replace(/^\/+/, "");
      return lookup(source, rel === "." ? "" : rel, true)?.type === "directory";
    });
    if ((intoDir || dirSource) && !files.some((f) => f.path === target) && target !== "/") {
      files.push({
        path: target,
        type: "directory",
        mode: lookup(view, target.slice(1), true)?.mode ?? 0o755,
        uid: owner?.uid ?? 0,
        gid: owner?.gid ?? 0,
        mtime: new Date(),
        linkTarget: "",
        size: 0,
      });
    }
    const all = withParents(files, view, owner ?? { uid: 0, gid: 0 });
    const srcText = [...instr.sources, ...instr.inline.map((d) => `<<${d.name}`)].join(" ");
    const createdBy = `${instr.keyword} ${
      instr.from !== undefined ? `--from=${instr.from} ` : ""
    }${srcText} ${instr.dest} # buildkit`;
    return await this.#storeStep(config, state, createdBy, packLayer(all), key);
  }
}

/** An image record for a state (the container code reads config, layers and ID). */
function intermediateImage(state: State): ImageRecord {
  const config = JSON.parse(state.configText) as ImageConfig;
  const id = sha256(state.configText);
  return {
    id,
    manifestDigest: id,
    manifests: [],
    descriptor: { mediaType: MEDIA_TYPES.OCI_MANIFEST, digest: id, size: 0 },
    manifest: {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.OCI_MANIFEST,
      config: { mediaType: MEDIA_TYPES.OCI_CONFIG, digest: id, size: state.configText.length },
      layers: state.layers.map((l) => l.descriptor),
    },
    config,
    names: [],
    repoDigests: [],
    chainIds: state.layers.map((l) => l.chainId),
    size: state.layers.reduce((n, l) => n + l.size, 0),
  };
}

/** Docker's error for an interrupted build. */
function canceled(): EngineError {
  return new EngineError("Canceled: context canceled", { exitCode: 1 });
}

/** Whether an instruction is a numbered step of the progress (it makes a layer). */
function isLayerStep(keyword: string): boolean {
  return ["RUN", "COPY", "ADD", "WORKDIR"].includes(keyword);
}

/** `busybox` -> `docker.io/library/busybox:latest`, as BuildKit names a base image. */
function fullName(name: string): string {
  try {
    return formatReference(parseReference(name));
  } catch {
    return name;
  }
}

/** Expands an instruction; an expansion error names its line. */
function expandStep<T extends Instr>(
  instr: T,
  vars: Map<string, string>,
  escape: string,
  where: { file: string; line: number },
): T {
  try {
    return expandInstruction(instr, vars, escape);
  } catch (error) {
    if (error instanceof InvalidError) {
      throw new DockerfileError(error.message, where);
    }
    throw error;
  }
}

/** The progress text of a step: the instruction as written, on one line. */
function stepText(instr: Instr): string {
  return instr.original.replace(/\s+/g, " ").trim();
}

export { goQuoteList };
