/**
 * `berth history IMAGE`: the build steps of an image, newest first.
 *
 * @module
 */
import { Engine } from "../engine/mod.ts";
import { bool, type Command, str } from "./_command.ts";
import { goTime, printRows } from "./_format.ts";
import { humanSize, sinceTime } from "./_units.ts";

/** `history [OPTIONS] IMAGE` */
export const history: Command = {
  usage: "[OPTIONS] IMAGE",
  summary: "Show the history of an image",
  args: { min: 1, max: 1 },
  flags: [
    {
      name: "format",
      type: "string",
      value: "string",
      description:
        "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template",
    },
    {
      name: "human",
      short: "H",
      type: "bool",
      default: true,
      description: "Print sizes and dates in human readable format",
    },
    { name: "no-trunc", type: "bool", description: "Don't truncate output" },
    { name: "quiet", short: "q", type: "bool", description: "Only show image IDs" },
  ],
  async run(ctx, flags, args) {
    const engine = Engine.open(ctx.root);
    const image = engine.image(args[0]!);
    const noTrunc = bool(flags, "no-trunc");
    const human = bool(flags, "human");
    const now = Date.now();
    const rows = engine.imageHistory(image).map((row) => {
      const createdBy = noTrunc || row.createdBy.length <= 45
        ? row.createdBy
        : `${row.createdBy.slice(0, 44)}…`;
      return {
        ID: row.id === undefined ? "<missing>" : noTrunc ? row.id : row.id.slice(7, 19),
        CreatedSince: row.created === undefined
          ? "N/A"
          : human
          ? sinceTime(row.created, now)
          : row.created,
        CreatedAt: row.created === undefined ? "" : goTime(row.created),
        CreatedBy: createdBy,
        Size: human ? humanSize(row.size) : String(row.size),
        Comment: row.comment,
        Tags: row.tags.join(", "),
      };
    });
    if (bool(flags, "quiet")) {
      for (const row of rows) ctx.print(`${row.ID}\n`);
      return 0;
    }
    await printRows(ctx, rows, {
      format: str(flags, "format"),
      columns: [
        { header: "IMAGE", field: "ID" },
        { header: "CREATED", field: "CreatedSince" },
        { header: "CREATED BY", field: "CreatedBy" },
        { header: "SIZE", field: "Size" },
        { header: "COMMENT", field: "Comment" },
      ],
      headers: { CreatedAt: "CREATED AT" },
    });
    return 0;
  },
};
