import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import { readArchive } from "./read_archive.ts";
import { makeTar, readAll, streamOf } from "./_test_util.ts";

Deno.test("readArchive() cleans names when they climb or are absolute", async () => {
  const tar = await makeTar([
    { name: "../../etc/passwd", body: "a" },
    { name: "/abs/file", body: "b" },
    { name: "./dir/", type: "directory" },
    { name: "link", type: "symlink", linkname: "../target" },
  ]);
  const seen: string[] = [];
  await readArchive(streamOf(tar), async (entry) => {
    seen.push(`${entry.type} ${entry.name} ${entry.linkname}`.trim());
    await entry.body.cancel();
  });
  assert.deepEqual(seen, [
    "file etc/passwd",
    "file abs/file",
    "directory dir",
    "symlink link ../target",
  ]);
});

Deno.test("readArchive() discards unread bodies when the callback ignores them", async () => {
  const tar = await makeTar([
    { name: "skipped", body: new Uint8Array(200_000) },
    { name: "half", body: new Uint8Array(200_000).fill(7) },
    { name: "read", body: "content" },
  ]);
  const seen: [string, string][] = [];
  await readArchive(streamOf(tar, 8192), async (entry) => {
    if (entry.name === "half") {
      const reader = entry.body.getReader();
      await reader.read();
      reader.releaseLock();
    }
    if (entry.name === "read") {
      seen.push([entry.name, new TextDecoder().decode(await readAll(entry.body))]);
    }
  });
  assert.deepEqual(seen, [["read", "content"]]);
});

Deno.test("readArchive() rejects with the callback's error when the callback throws", async () => {
  const tar = await makeTar([{ name: "a", body: "a" }, { name: "b", body: "b" }]);
  const names: string[] = [];
  await assert.rejects(
    readArchive(streamOf(tar), (entry) => {
      names.push(entry.name);
      return Promise.reject(new InvalidError("Bad member"));
    }),
    (error: Error) => error instanceof InvalidError && /Bad member/.test(error.message),
  );
  assert.deepEqual(names, ["a"]);
});

Deno.test("readArchive() rejects a truncated archive with a clear message", async () => {
  const tar = await makeTar([{ name: "a", body: new Uint8Array(5000) }]);
  await assert.rejects(
    readArchive(
      streamOf(tar.slice(0, 2000)),
      async (entry) => void await readAll(entry.body).catch(() => {}),
    ),
    (error: Error) =>
      error instanceof InvalidError && error.message === "Invalid archive: unexpected end of data",
  );
});
