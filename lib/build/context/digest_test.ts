import assert from "node:assert/strict";
import { openDirContext } from "./context.ts";
import { resolveCopy } from "./match.ts";
import { digestSources } from "./digest.ts";
import { makeDir } from "./_test_util.ts";

Deno.test("digestSources() changes exactly when content, mode, names or links change", async () => {
  const root = await makeDir({ "src/a.txt": "A", "src/b/c.txt": "C", "src/l": { link: "a.txt" } });
  try {
    const digest = async () => {
      const context = await openDirContext(root);
      return digestSources(context, resolveCopy(context, ["src"], "/app/"));
    };
    const first = await digest();
    assert.match(first, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await digest(), first, "stable");

    await Deno.utime(`${root}/src/a.txt`, 1, 1);
    assert.equal(await digest(), first, "mtime is ignored");

    await Deno.writeTextFile(`${root}/src/a.txt`, "a");
    const content = await digest();
    assert.notEqual(content, first, "content");
    await Deno.writeTextFile(`${root}/src/a.txt`, "A");
    assert.equal(await digest(), first, "content restored");

    await Deno.chmod(`${root}/src/b/c.txt`, 0o600);
    const mode = await digest();
    assert.notEqual(mode, first, "mode");
    await Deno.chmod(`${root}/src/b/c.txt`, 0o644);
    assert.equal(await digest(), first, "mode restored");

    await Deno.remove(`${root}/src/l`);
    await Deno.symlink("b/c.txt", `${root}/src/l`);
    assert.notEqual(await digest(), first, "link target");
    await Deno.remove(`${root}/src/l`);
    await Deno.symlink("a.txt", `${root}/src/l`);
    assert.equal(await digest(), first, "link restored");

    await Deno.rename(`${root}/src/a.txt`, `${root}/src/z.txt`);
    await Deno.symlink("a.txt", `${root}/src/dummy`).catch(() => {});
    assert.notEqual(await digest(), first, "name");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("digestSources() includes ownership only when asked", async () => {
  const root = await makeDir({ "f": "x" });
  try {
    const context = await openDirContext(root);
    const items = resolveCopy(context, ["f"], "/f");
    const owned = items.map((i) => ({ ...i, entry: { ...i.entry, uid: i.entry.uid + 1 } }));
    assert.equal(await digestSources(context, owned), await digestSources(context, items));
    assert.notEqual(
      await digestSources(context, owned, { owner: true }),
      await digestSources(context, items, { owner: true }),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
