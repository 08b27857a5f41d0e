import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { EngineError, InvalidError } from "../errors.ts";
import { applyLayer } from "./apply_layer.ts";
import { type Fixture, list, makeTar, streamOf, withRoot } from "./_test_util.ts";

/**
 * Runs `check` on a fresh `root` inside a sentinel `parent` that also holds
 * `outside-file`, then asserts that nothing else appeared or changed in `parent`.
 */
function inSentinel(check: (root: string) => Promise<void>): Promise<void> {
  return withRoot(async (root, parent) => {
    Deno.writeTextFileSync(`${parent}/outside-file`, "outside");
    try {
      await check(root);
    } finally {
      assert.deepEqual(list(parent), ["outside-file", "root"], "nothing is created outside root");
      assert.equal(Deno.readTextFileSync(`${parent}/outside-file`), "outside");
      assert.equal(Deno.lstatSync(`${parent}/outside-file`).nlink, 1, "outside-file is not linked");
    }
  });
}

/** Applies `entries` in a sentinel parent and expects success. */
function applyContained(entries: Fixture[], check: (root: string) => void): Promise<void> {
  return inSentinel(async (root) => {
    await applyLayer(streamOf(await makeTar(entries)), root);
    check(root);
  });
}

/** Applies `entries` in a sentinel parent and expects an InvalidError matching `message`. */
function rejectContained(entries: Fixture[], message: RegExp): Promise<void> {
  return inSentinel(async (root) => {
    await assert.rejects(applyLayer(streamOf(await makeTar(entries)), root), (error: Error) => {
      assert.ok(error instanceof InvalidError, `${error.name}: ${error.message}`);
      assert.match(error.message, message);
      return true;
    });
  });
}

Deno.test("applyLayer() keeps entries inside the target when names climb with '..'", async () => {
  await applyContained([
    { name: "../escape", body: "1" },
    { name: "../../../../../../escape-deep", body: "2" },
    { name: "a/../../b/../../escape-mid", body: "3" },
    { name: "../dev-escape", type: "character-device", devmajor: 1, devminor: 3 },
  ], (root) => {
    assert.deepEqual(list(root), ["dev-escape", "escape", "escape-deep", "escape-mid"]);
  });
});

Deno.test("applyLayer() roots absolute names in the target when names start with '/'", async () => {
  await applyContained([{ name: "/abs/escape", body: "x" }], (root) => {
    assert.equal(Deno.readTextFileSync(`${root}/abs/escape`), "x");
  });
});

Deno.test("applyLayer() resolves a symlinked parent inside the target when it points to '/'", async () => {
  await applyContained([
    { name: "evil", type: "symlink", linkname: "/" },
    { name: "evil/escape", body: "x" },
  ], (root) => {
    assert.equal(Deno.readLinkSync(`${root}/evil`), "/");
    assert.equal(Deno.readTextFileSync(`${root}/escape`), "x");
  });
});

Deno.test("applyLayer() resolves a symlinked parent inside the target when it climbs with '..'", async () => {
  await applyContained([
    { name: "sub/evil", type: "symlink", linkname: "../../../.." },
    { name: "sub/evil/escape", body: "x" },
  ], (root) => {
    assert.equal(Deno.readTextFileSync(`${root}/escape`), "x");
  });
});

Deno.test("applyLayer() resolves a symlinked parent inside the target when it names the real parent", async () => {
  await withRoot(async (root, parent) => {
    const bytes = await makeTar([
      { name: "evil", type: "symlink", linkname: parent },
      { name: "evil/escape", body: "x" },
    ]);
    await applyLayer(streamOf(bytes), root);
    assert.deepEqual(list(parent), ["root"]);
    assert.equal(Deno.readTextFileSync(`${root}${parent}/escape`), "x");
  });
});

Deno.test("applyLayer() follows a symlink chain inside the target when parents are chained links", async () => {
  await applyContained([
    { name: "c", type: "directory" },
    { name: "b", type: "symlink", linkname: "c/../../.." },
    { name: "a", type: "symlink", linkname: "b" },
    { name: "a/escape", body: "x" },
  ], (root) => {
    assert.equal(Deno.readTextFileSync(`${root}/escape`), "x");
  });
});

Deno.test("applyLayer() rejects the entry when symlinked parents loop", async () => {
  await rejectContained([
    { name: "l1", type: "symlink", linkname: "l2" },
    { name: "l2", type: "symlink", linkname: "l1" },
    { name: "l1/x", body: "x" },
  ], /cannot extract "l1\/x": .*too many levels of symbolic links/);
});

Deno.test("applyLayer() replaces a symlink instead of writing through it when a file has its name", async () => {
  await withRoot(async (root, parent) => {
    Deno.writeTextFileSync(`${parent}/outside-file`, "outside");
    const bytes = await makeTar([
      { name: "link", type: "symlink", linkname: `${parent}/outside-file` },
      { name: "link", body: "inside" },
      { name: "rel", type: "symlink", linkname: "../outside-file" },
      { name: "rel", type: "directory" },
      { name: "dev", type: "symlink", linkname: "../outside-file" },
      { name: "dev", type: "fifo" },
    ]);
    await applyLayer(streamOf(bytes), root);
    assert.equal(Deno.readTextFileSync(`${parent}/outside-file`), "outside");
    assert.equal(Deno.readTextFileSync(`${root}/link`), "inside");
    assert.ok(Deno.lstatSync(`${root}/rel`).isDirectory);
    assert.ok(Deno.lstatSync(`${root}/dev`).isFifo);
    assert.deepEqual(list(parent), ["outside-file", "root"]);
  });
});

Deno.test("applyLayer() rejects a hardlink when its target climbs out of the target", async () => {
  await rejectContained(
    [{ name: "h", type: "link", linkname: "../../outside-file" }],
    /cannot extract "h": hardlink target "..\/..\/outside-file" is not in the layer/,
  );
});

Deno.test("applyLayer() rejects a hardlink when its target is an absolute host path", async () => {
  const before = Deno.lstatSync("/etc/passwd").nlink;
  await rejectContained(
    [{ name: "h", type: "link", linkname: "/etc/passwd" }],
    /hardlink target "\/etc\/passwd" is not in the layer/,
  );
  assert.equal(Deno.lstatSync("/etc/passwd").nlink, before);
});

Deno.test("applyLayer() rejects a hardlink when its target goes through a symlink to '/'", async () => {
  const before = Deno.lstatSync("/etc/passwd").nlink;
  await rejectContained([
    { name: "evil", type: "symlink", linkname: "/" },
    { name: "h", type: "link", linkname: "evil/etc/passwd" },
  ], /hardlink target "evil\/etc\/passwd" is not in the layer/);
  assert.equal(Deno.lstatSync("/etc/passwd").nlink, before);
});

Deno.test("applyLayer() links the in-layer file when a hardlink target is named through a symlink", async () => {
  await applyContained([
    { name: "real/file", body: "x" },
    { name: "alias", type: "symlink", linkname: "/real" },
    { name: "h", type: "link", linkname: "alias/file" },
  ], (root) => {
    assert.equal(Deno.lstatSync(`${root}/h`).ino, Deno.lstatSync(`${root}/real/file`).ino);
  });
});

Deno.test("applyLayer() rejects a hardlink when its target is a directory", async () => {
  await rejectContained([
    { name: "d", type: "directory" },
    { name: "h", type: "link", linkname: "d" },
  ], /hardlink target "d" is a directory/);
});

Deno.test("applyLayer() rejects an entry when a parent component is a regular file", async () => {
  await rejectContained([
    { name: "f", body: "x" },
    { name: "f/x", body: "y" },
  ], /cannot extract "f\/x": cannot resolve "f": "f" is not a directory/);
});

Deno.test("applyLayer() rejects a truncated tar with a clear message", async () => {
  const bytes = await makeTar([{ name: "big", body: new Uint8Array(10_000) }]);
  await withRoot(async (root) => {
    await assert.rejects(applyLayer(streamOf(bytes.slice(0, 3000)), root), (error: Error) => {
      assert.ok(error instanceof InvalidError);
      assert.equal(error.message, "Invalid layer archive: unexpected end of data");
      return true;
    });
  });
});

Deno.test("applyLayer() rejects corrupt and truncated gzip with a clear message", async () => {
  const bytes = await makeTar([{
    name: "big",
    body: crypto.getRandomValues(new Uint8Array(60_000)),
  }]);
  const gz = new Uint8Array(gzipSync(bytes)); // a copy: Buffer.slice() would share memory
  const corrupt = gz.slice();
  corrupt.fill(0xff, 20, 200);
  const cases: [Uint8Array, RegExp][] = [
    [corrupt, /^Invalid layer archive: invalid gzip data: /],
    [
      gz.slice(0, gz.byteLength / 2),
      /^Invalid layer archive: invalid gzip data: unexpected end of file/,
    ],
  ];
  for (const [blob, message] of cases) {
    await withRoot(async (root) => {
      await assert.rejects(applyLayer(streamOf(blob), root), (error: Error) => {
        assert.ok(error instanceof InvalidError, `${error.name}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("applyLayer() rejects xz and bzip2 layers when sniffing their magic", async () => {
  const blobs: [Uint8Array, string][] = [
    [new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2]), "xz"],
    [new TextEncoder().encode("BZh91AY&SY"), "bzip2"],
  ];
  for (const [blob, name] of blobs) {
    await withRoot(async (root) => {
      await assert.rejects(applyLayer(streamOf(blob), root), (error: Error) => {
        assert.ok(error instanceof InvalidError);
        assert.equal(error.message, `Unsupported layer compression: "${name}"`);
        return true;
      });
    });
  }
});

Deno.test("applyLayer() rejects with an EngineError when the source fails", async () => {
  const bytes = await makeTar([{ name: "big", body: new Uint8Array(100_000) }]);
  let sent = false;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(new Error("connection reset"));
      controller.enqueue(bytes.slice(0, 10_000));
      sent = true;
    },
  });
  await withRoot(async (root) => {
    await assert.rejects(applyLayer(source, root), (error: Error) => {
      assert.ok(error instanceof EngineError && !(error instanceof InvalidError));
      assert.equal(error.message, "Cannot read layer archive: connection reset");
      return true;
    });
  });
});
