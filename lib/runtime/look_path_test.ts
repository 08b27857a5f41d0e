import assert from "node:assert/strict";
import { ExecError, lookPath } from "./look_path.ts";

Deno.test("lookPath() searches PATH and reports 127/126 with Docker's messages", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/bin`);
    Deno.writeTextFileSync(`${dir}/bin/tool`, "#!/bin/sh\n");
    Deno.chmodSync(`${dir}/bin/tool`, 0o755);
    Deno.writeTextFileSync(`${dir}/bin/plain`, "x");
    const env = [`PATH=/nowhere:${dir}/bin`];
    assert.equal(lookPath("tool", env), `${dir}/bin/tool`);
    assert.equal(lookPath(`${dir}/bin/tool`, env), `${dir}/bin/tool`);
    assert.equal(lookPath("bin/tool", env, dir), "bin/tool");
    const fails: [string, number, string][] = [
      ["nope", 127, 'exec: "nope": executable file not found in $PATH'],
      ["plain", 127, 'exec: "plain": executable file not found in $PATH'],
      [`${dir}/none`, 127, `exec: "${dir}/none": stat ${dir}/none: no such file or directory`],
      [`${dir}/bin/plain`, 126, `exec: "${dir}/bin/plain": permission denied`],
      [`${dir}/bin`, 126, `exec: "${dir}/bin": is a directory`],
    ];
    for (const [command, code, message] of fails) {
      assert.throws(() => lookPath(command, env), (e: Error) => {
        assert.ok(e instanceof ExecError);
        assert.equal(e.exitCode, code);
        assert.equal(e.message, message);
        return true;
      });
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
