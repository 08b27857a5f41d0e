/**
 * `berth inspect` and `berth image inspect`: Docker's JSON for each object, or
 * `--format` applied to each.
 *
 * @module
 */
import { InvalidError, NotFoundError, UsageError } from "../errors.ts";
import { Engine } from "../engine/mod.ts";
import { type Command, str } from "./_command.ts";
import { printInspect } from "./_format.ts";
import { inspectContainer } from "./container.ts";
import { containerService } from "./_service.ts";

const FLAGS: Command["flags"] = [
  {
    name: "format",
    short: "f",
    type: "string",
    value: "string",
    description: "Format output using a custom template: 'json' or a Go template",
  },
];

/**
 * Inspects every name; prints what was found, then fails on the first that was
 * not (Docker prints the found ones and exits 1 with `Error: No such object`).
 */
function inspectImages(engine: Engine, names: string[], errors: string[]): unknown[] {
  const out: unknown[] = [];
  for (const name of names) {
    try {
      out.push(engine.inspectImage(engine.image(name)));
    } catch (error) {
      if (!(error instanceof NotFoundError || error instanceof InvalidError)) throw error;
      errors.push(name);
    }
  }
  return out;
}

/** `image inspect [OPTIONS] IMAGE [IMAGE...]` */
export const imageInspect: Command = {
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  summary: "Display detailed information on one or more images",
  args: { min: 1 },
  flags: FLAGS,
  run(ctx, flags, args) {
    const missing: string[] = [];
    const found = inspectImages(Engine.open(ctx.root), args, missing);
    printInspect(ctx, found, str(flags, "format"));
    if (missing.length > 0) throw new NotFoundError(`No such image: ${missing.join(", ")}`);
    return Promise.resolve(0);
  },
};

/** `inspect [OPTIONS] NAME|ID [NAME|ID...]`: containers first, then images, as Docker. */
export const inspect: Command = {
  usage: "[OPTIONS] NAME|ID [NAME|ID...]",
  summary: "Return low-level information on berth objects",
  args: { min: 1 },
  flags: [
    ...FLAGS,
    {
      name: "type",
      type: "string",
      value: "string",
      description: "Return JSON for specified type (container or image)",
    },
  ],
  async run(ctx, flags, args) {
    const type = str(flags, "type");
    if (type !== undefined && type !== "image" && type !== "container") {
      throw new UsageError(`"${type}" is not a valid value for --type`);
    }
    const engine = Engine.open(ctx.root);
    const service = containerService(ctx);
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const name of args) {
      if (type !== "image") {
        const container = await inspectContainer(service, name);
        if (container !== undefined) {
          found.push(container);
          continue;
        }
      }
      const image = type === "container" ? [] : inspectImages(engine, [name], []);
      if (image.length === 1) found.push(image[0]);
      else missing.push(name);
    }
    printInspect(ctx, found, str(flags, "format"));
    if (missing.length > 0) throw new NotFoundError(`No such object: ${missing.join(", ")}`);
    return 0;
  },
};
