import assert from "node:assert/strict";
import type { Context } from "./_command.ts";
import { layerProgress } from "./_layer_progress.ts";

function fakeContext(terminal: boolean): { ctx: Context; out: string[] } {
  const out: string[] = [];
  const ctx = {
    root: "/tmp",
    runRoot: "/tmp",
    debug: false,
    self: [],
    print: (text: string) => void out.push(text),
    printErr: () => {},
    stdoutIsTerminal: terminal,
    stderrIsTerminal: terminal,
    stdinIsTerminal: false,
  } satisfies Context;
  return { ctx, out };
}

Deno.test("layerProgress() prints only state changes when stdout is not a terminal", () => {
  const { ctx, out } = fakeContext(false);
  const p = layerProgress(ctx);
  p.event({ status: "latest: Pulling from busybox" });
  p.event({ id: "aaaaaaaaaaaa", status: "Pulling fs layer" });
  p.event({ id: "aaaaaaaaaaaa", status: "Downloading", current: 10, total: 100 });
  p.event({ id: "aaaaaaaaaaaa", status: "Download complete" });
  p.event({ id: "aaaaaaaaaaaa", status: "Download complete" });
  p.event({ id: "aaaaaaaaaaaa", status: "Pull complete" });
  assert.deepEqual(out, [
    "latest: Pulling from busybox\n",
    "aaaaaaaaaaaa: Pulling fs layer\n",
    "aaaaaaaaaaaa: Download complete\n",
    "aaaaaaaaaaaa: Pull complete\n",
  ]);
});

Deno.test("layerProgress() redraws a layer's line in place on a terminal", () => {
  const { ctx, out } = fakeContext(true);
  const p = layerProgress(ctx);
  p.event({ id: "aaaaaaaaaaaa", status: "Pulling fs layer" });
  p.event({ id: "bbbbbbbbbbbb", status: "Pulling fs layer" });
  p.event({ id: "aaaaaaaaaaaa", status: "Downloading", current: 50, total: 100 });
  assert.equal(out.length, 3);
  // Two lines up to the first layer, clear it, draw the bar, two lines back down.
  const esc = "\x1b";
  const line = out[2]!;
  assert.ok(line.startsWith(`${esc}[2A\r${esc}[2Kaaaaaaaaaaaa: Downloading [`), line);
  assert.ok(line.endsWith(`50B/100B\r${esc}[2B`), line);
});

Deno.test("layerProgress() prints nothing when quiet", () => {
  const { ctx, out } = fakeContext(true);
  layerProgress(ctx, true).event({ id: "a", status: "Pull complete" });
  assert.deepEqual(out, []);
});
