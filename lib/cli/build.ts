/**
 * `berth build`: builds an image from a Dockerfile and a context (a
 * directory, or a tar on stdin), printing BuildKit's plain progress on
 * stderr; and `berth builder prune`, which empties the build cache.
 *
 * @module
 */
import { EngineError, InvalidError, UsageError } from "../errors.ts";
// Not engine/mod.ts, nor the container service: a cached rebuild loads neither.
import { Engine } from "../engine/engine.ts";
import { BuildError, type BuildEvent, buildImage } from "../engine/build/builder.ts";
import { pruneCache } from "../engine/build/cache.ts";
import { collectGarbage } from "../engine/image_gc.ts";
import { chainIds, type Digest } from "../digest.ts";
import { openDirContext, parseIgnoreFile, readTarContext } from "../build/context/mod.ts";
import type { BuildContext } from "../build/context/mod.ts";
import { DockerfileError } from "../build/dockerfile/mod.ts";
import {
  familiarString,
  parseImageConfig,
  parseManifest,
  parseReference,
  type Reference,
} from "../image/mod.ts";
import { bool, type Command, type Context, list, str } from "./_command.ts";
import { confirm } from "./_confirm.ts";
import { keyValues } from "./_filters.ts";
import { humanSize } from "./_units.ts";

/** `build [OPTIONS] PATH | -` */
export const build: Command = {
  usage: "[OPTIONS] PATH | URL | -",
  summary: "Build an image from a Dockerfile",
  args: { min: 1, max: 1 },
  flags: [
    {
      name: "tag",
      short: "t",
      type: "list",
      value: "list",
      description: 'Name and optionally a tag (format: "name:tag")',
    },
    {
      name: "file",
      short: "f",
      type: "string",
      value: "string",
      description: 'Name of the Dockerfile (default: "PATH/Dockerfile")',
    },
    {
      name: "build-arg",
      type: "list",
      value: "stringArray",
      description: "Set build-time variables",
    },
    {
      name: "target",
      type: "string",
      value: "string",
      description: "Set the target build stage to build",
    },
    { name: "no-cache", type: "bool", description: "Do not use cache when building the image" },
    { name: "label", type: "list", value: "stringArray", description: "Set metadata for an image" },
    {
      name: "quiet",
      short: "q",
      type: "bool",
      description: "Suppress the build output and print image ID on success",
    },
    {
      name: "iidfile",
      type: "string",
      value: "string",
      description: "Write the image ID to the file",
    },
    {
      name: "progress",
      type: "string",
      value: "string",
      description: 'Set type of progress output ("auto", "plain", "tty")',
    },
    {
      name: "network",
      type: "string",
      value: "string",
      description: "Set the networking mode for the RUN instructions during build",
    },
  ],
  async run(ctx, flags, args) {
    const progressMode = str(flags, "progress") ?? "auto";
    if (!["auto", "plain", "tty", "quiet"].includes(progressMode)) {
      throw new UsageError(`invalid progress mode "${progressMode}": want auto, plain or tty`);
    }
    const tags: Reference[] = list(flags, "tag").map((t) => {
      try {
        const ref = parseReference(t);
        if (ref.digest !== undefined) throw new InvalidError("digest");
        return ref;
      } catch {
        throw new UsageError(
          `invalid argument "${t}" for "-t, --tag" flag: invalid reference format`,
        );
      }
    });
    const buildArgs = new Map<string, string>();
    for (const arg of list(flags, "build-arg")) {
      const eq = arg.indexOf("=");
      if (eq < 0) {
        const value = Deno.env.get(arg);
        if (value !== undefined) buildArgs.set(arg, value);
      } else buildArgs.set(arg.slice(0, eq), arg.slice(eq + 1));
    }
    const quiet = bool(flags, "quiet") || progressMode === "quiet";
    const engine = Engine.open(ctx.root);
    const { context, dockerfile, name } = await openContext(
      args[0]!,
      str(flags, "file"),
      engine.store.tmpDir,
    );
    const tty = progressMode === "tty" || (progressMode === "auto" && ctx.stderrIsTerminal);
    const printer = quiet ? undefined : tty ? new TtyProgress(ctx) : new PlainProgress(ctx);
    // Ctrl-C or a stop ends the build cleanly: the RUN container is killed and removed.
    const abort = new AbortController();
    const stop = () => abort.abort();
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    for (const sig of signals) Deno.addSignalListener(sig, stop);
    try {
      const started = performance.now();
      const network = str(flags, "network");
      const target = str(flags, "target");
      const image = await buildImage(engine.store, {
        dockerfile,
        dockerfileName: name,
        context,
        tags,
        buildArgs,
        ...(target !== undefined ? { target } : {}),
        noCache: bool(flags, "no-cache"),
        labels: keyValues(list(flags, "label")),
        ...(network !== undefined ? { network } : {}),
        containers: async () => (await import("./_service.ts")).containerService(ctx),
        pull: async (ref) => {
          const { RegistryConfig } = await import("../engine/auth_config.ts");
          const registry = RegistryConfig.load(undefined, ctx.insecureRegistries);
          await engine.pullImage(ref, { registry });
        },
        ...(printer !== undefined ? { onEvent: (e: BuildEvent) => printer.event(e) } : {}),
        signal: abort.signal,
      });
      printer?.exported(image.id, tags, performance.now() - started);
      printer?.close();
      const iidfile = str(flags, "iidfile");
      if (iidfile !== undefined) await Deno.writeTextFile(iidfile, image.id);
      if (quiet) ctx.print(`${image.id}\n`);
      return 0;
    } catch (error) {
      printer?.close();
      if (error instanceof BuildError || error instanceof DockerfileError) {
        ctx.printErr(
          snippet(
            dockerfile,
            error.file,
            error.line,
            error instanceof BuildError ? error.endLine : error.line,
          ),
        );
      }
      // `docker build` exits 1 for a malformed Dockerfile too.
      if (error instanceof DockerfileError) throw new EngineError(error.message, { exitCode: 1 });
      throw error;
    } finally {
      printer?.close();
      for (const sig of signals) Deno.removeSignalListener(sig, stop);
      await context.close().catch(() => {});
    }
  },
};

/** The context and Dockerfile, as Docker finds them. */
async function openContext(
  given: string,
  file: string | undefined,
  tmpRoot: string,
): Promise<{ context: BuildContext; dockerfile: string; name: string }> {
  if (/^(https?|git):\/\/|^git@/.test(given)) {
    throw new UsageError(
      `unable to prepare context: remote contexts are not supported by berth: ${given}`,
    );
  }
  if (given === "-") {
    if (file === "-") {
      throw new UsageError(
        "invalid argument: can't use stdin for both build context and dockerfile",
      );
    }
    const name = file ?? "Dockerfile";
    const context = await readTarContext(Deno.stdin.readable, { tmpRoot, dockerfile: name });
    try {
      const entry = context.get(name.replace(/^\.?\/+/, ""));
      if (entry === undefined || entry.type !== "file") {
        throw new EngineError(
          `failed to solve: failed to read dockerfile: open ${name}: no such file or directory`,
          { exitCode: 1 },
        );
      }
      return {
        context,
        dockerfile: new TextDecoder().decode(await context.readFile(entry.path)),
        name,
      };
    } catch (error) {
      await context.close();
      throw error;
    }
  }
  const dir = given.replace(/\/+$/, "") || "/";
  let dockerfile: string;
  let path: string;
  if (file === "-") {
    path = `${dir}/Dockerfile`;
    dockerfile = await new Response(Deno.stdin.readable).text();
  } else {
    path = file ?? `${dir}/Dockerfile`;
    try {
      dockerfile = await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      // Docker falls back to a lower-case "dockerfile" when none was named.
      try {
        if (file !== undefined) throw error;
        path = `${dir}/dockerfile`;
        dockerfile = await Deno.readTextFile(path);
      } catch {
        throw new EngineError(
          `failed to solve: failed to read dockerfile: open ${
            file ?? "Dockerfile"
          }: no such file or directory`,
          { exitCode: 1 },
        );
      }
    }
  }
  const name = path.slice(path.lastIndexOf("/") + 1);
  let excludes: string[] | undefined;
  if (file !== "-") {
    try {
      excludes = parseIgnoreFile(await Deno.readTextFile(`${path}.dockerignore`));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const absDir = await Deno.realPath(dir).catch(() => dir);
  const absFile = await Deno.realPath(path).catch(() => path);
  const inContext = absFile.startsWith(`${absDir}/`) ? absFile.slice(absDir.length + 1) : name;
  const context = await openDirContext(dir, {
    ...(excludes !== undefined ? { excludes } : {}),
    dockerfile: inContext,
  });
  return { context, dockerfile, name };
}

/** BuildKit's excerpt of the Dockerfile around a failing line. */
function snippet(text: string, file: string, line: number, endLine: number): string {
  const lines = text.split("\n");
  const from = Math.max(1, line - 2);
  const out = [`${file}:${line === endLine ? line : `${line}-${endLine}`}`, "--------------------"];
  for (let n = from; n <= Math.min(endLine, lines.length); n++) {
    const mark = n >= line ? ">>>" : "   ";
    out.push(`${String(n).padStart(4)} | ${mark} ${lines[n - 1] ?? ""}`);
  }
  out.push("--------------------", "");
  return out.join("\n");
}

/** BuildKit's `--progress=plain` output, on stderr. */
class PlainProgress {
  readonly #ctx: Context;
  readonly #starts = new Map<number, number>();
  #last = 0;
  #partial = new Map<number, string>();

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  event(e: BuildEvent): void {
    const err = (t: string) => this.#ctx.printErr(t);
    this.#last = Math.max(this.#last, e.id);
    switch (e.type) {
      case "step":
        this.#starts.set(e.id, performance.now());
        err(`#${e.id} ${e.name}\n`);
        break;
      case "output": {
        const at = ((performance.now() - (this.#starts.get(e.id) ?? 0)) / 1000).toFixed(3);
        const text = (this.#partial.get(e.id) ?? "") + new TextDecoder().decode(e.data);
        const lines = text.split("\n");
        this.#partial.set(e.id, lines.pop()!);
        for (const line of lines) err(`#${e.id} ${at} ${line}\n`);
        break;
      }
      case "cached":
        err(`#${e.id} CACHED\n`);
        break;
      case "done": {
        this.#flush(e.id);
        if (!this.#cachedIds.has(e.id)) err(`#${e.id} DONE ${(e.ms / 1000).toFixed(1)}s\n`);
        err("\n");
        break;
      }
      case "error":
        this.#flush(e.id);
        err(`#${e.id} ERROR: ${e.message}\n\n`);
        break;
    }
    if (e.type === "cached") this.#cachedIds.add(e.id);
  }

  readonly #cachedIds = new Set<number>();

  #flush(id: number): void {
    const rest = this.#partial.get(id);
    if (rest) this.#ctx.printErr(`#${id} ${rest}\n`);
    this.#partial.delete(id);
  }

  close(): void {}

  exported(id: Digest, tags: readonly Reference[], _ms: number): void {
    const n = this.#last + 1;
    const err = (t: string) => this.#ctx.printErr(t);
    err(`#${n} exporting to image\n`);
    err(`#${n} writing image ${id} done\n`);
    for (const tag of tags) {
      err(
        `#${n} naming to ${familiarString(tag).includes("/") ? "" : "docker.io/library/"}${
          familiarString(tag)
        } done\n`,
      );
    }
    err(`#${n} DONE 0.0s\n`);
  }
}

/** How many lines of a running step's output the tty display shows, as BuildKit's. */
const TTY_TAIL = 6;

interface TtyStep {
  name: string;
  started: number;
  ms?: number;
  state: "running" | "cached" | "done" | "error";
  /** Its output's last lines (the partial one last). */
  tail: string[];
}

/**
 * BuildKit's `--progress=tty` display on a terminal's stderr: a block of
 * `=> [stage i/n] STEP  0.3s` lines redrawn in place (every 100 ms while a
 * step runs) under `[+] Building 1.2s (3/5)`, with the last lines of a
 * running step's output below it; what stays on screen at the end is the
 * finished list, and a failed step's output is printed after it.
 */
class TtyProgress {
  readonly #ctx: Context;
  readonly #started = performance.now();
  readonly #steps = new Map<number, TtyStep>();
  #export: string[] = [];
  #drawn = 0;
  #done = false;
  #timer: ReturnType<typeof setInterval>;

  constructor(ctx: Context) {
    this.#ctx = ctx;
    this.#timer = setInterval(() => this.#draw(), 100);
    Deno.unrefTimer(this.#timer as unknown as number); // never what keeps berth running
  }

  event(e: BuildEvent): void {
    const step = this.#steps.get(e.id);
    switch (e.type) {
      case "step":
        this.#steps.set(e.id, {
          name: e.name,
          started: performance.now(),
          state: "running",
          tail: [],
        });
        break;
      case "output": {
        if (step === undefined) break;
        const text = (step.tail.pop() ?? "") + new TextDecoder().decode(e.data);
        step.tail.push(...text.split("\n"));
        if (step.tail.length > 10 * TTY_TAIL) step.tail.splice(0, step.tail.length - 10 * TTY_TAIL);
        break;
      }
      case "cached":
        if (step !== undefined) step.state = "cached";
        break;
      case "done":
        if (step !== undefined) {
          step.ms = e.ms;
          if (step.state === "running") step.state = "done";
        }
        break;
      case "error":
        if (step !== undefined) {
          step.ms = e.ms;
          step.state = "error";
        }
        break;
    }
    this.#draw();
  }

  exported(id: Digest, tags: readonly Reference[], _ms: number): void {
    this.#export = [
      "exporting to image",
      `=> writing image ${id}`,
      ...tags.map((tag) => {
        const name = familiarString(tag);
        return `=> naming to ${name.includes("/") ? "" : "docker.io/library/"}${name}`;
      }),
    ];
  }

  /** The final frame, and a failed step's output under it. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    clearInterval(this.#timer);
    this.#draw();
    for (const step of this.#steps.values()) {
      if (step.state !== "error") continue;
      const lines = step.tail.filter((l, i) => l !== "" || i < step.tail.length - 1);
      this.#ctx.printErr(
        ["------", ` > ${step.name}:`, ...lines.slice(-10).map((l) => l), "------", ""]
          .join("\n"),
      );
    }
  }

  #draw(): void {
    const cols = Math.max(40, consoleColumns());
    const now = performance.now();
    const steps = [...this.#steps.values()];
    const finished = steps.filter((s) => s.state !== "running").length;
    const failed = steps.some((s) => s.state === "error");
    const status = this.#done ? (failed ? " ERROR" : " FINISHED") : "";
    const lines = [
      `[+] Building ${
        ((now - this.#started) / 1000).toFixed(1)
      }s (${finished}/${steps.length})${status}`,
    ];
    const row = (label: string, seconds: number) => {
      const time = `${seconds.toFixed(1)}s`;
      const room = cols - time.length - 2;
      const text = label.length > room ? label.slice(0, room - 1) + "…" : label;
      return text + " ".repeat(Math.max(1, cols - text.length - time.length - 1)) + time;
    };
    for (const step of steps) {
      const prefix = step.state === "cached" ? "CACHED " : step.state === "error" ? "ERROR " : "";
      lines.push(row(` => ${prefix}${step.name}`, (step.ms ?? now - step.started) / 1000));
      if (step.state === "running") {
        const tail = step.tail.filter((l, i) => l !== "" || i < step.tail.length - 1);
        for (const l of tail.slice(-TTY_TAIL)) lines.push(` => => # ${l}`.slice(0, cols - 1));
      }
    }
    for (const line of this.#export) {
      lines.push(row(` ${line.startsWith("=>") ? "=> " : "=> "}${line}`, 0));
    }
    let out = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const line of lines) out += `\x1b[2K${line}\n`;
    // A frame shorter than the last one clears what is left below it.
    for (let i = lines.length; i < this.#drawn; i++) out += "\x1b[2K\n";
    if (this.#drawn > lines.length) out += `\x1b[${this.#drawn - lines.length}A`;
    this.#ctx.printErr(out);
    this.#drawn = lines.length;
  }
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}

/** `builder prune [OPTIONS]` */
export const builderPrune: Command = {
  usage: "[OPTIONS]",
  summary: "Remove build cache",
  args: { max: 0 },
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Remove all unused build cache, not just dangling ones",
    },
    { name: "force", short: "f", type: "bool", description: "Do not prompt for confirmation" },
  ],
  async run(ctx, flags) {
    const all = bool(flags, "all");
    const warning = all
      ? "WARNING! This will remove all build cache."
      : "WARNING! This will remove all dangling build cache.";
    if (!bool(flags, "force") && !(await confirm(ctx, warning))) return 0;
    const store = Engine.open(ctx.root).store;
    const { removed, reclaimed } = await store.locked(() => {
      const chains = new Set<Digest>();
      for (const desc of store.index.read()) {
        try {
          const manifest = parseManifest(store.blobs.read(desc.digest));
          const config = parseImageConfig(store.blobs.read(manifest.config.digest));
          for (const c of chainIds(config.rootfs.diff_ids)) chains.add(c);
        } catch {
          // an index of indexes or a vanished blob: it has no layers of a build
        }
      }
      const report = pruneCache(store, all, chains);
      const gc = collectGarbage(store);
      return { removed: report.removed, reclaimed: gc.reclaimed };
    });
    if (removed.length > 0) {
      ctx.print("Deleted build cache objects:\n");
      for (const key of removed) ctx.print(`${key.slice(7, 32)}\n`);
      ctx.print("\n");
    }
    ctx.print(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
