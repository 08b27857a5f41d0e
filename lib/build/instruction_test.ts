import assert from "node:assert/strict";
import { InvalidError } from "../errors.ts";
import { applyChanges, splitWords } from "./instruction.ts";

Deno.test("applyChanges() sets CMD/ENTRYPOINT in JSON and shell form as Docker does", () => {
  const config = applyChanges({}, ['CMD ["sh", "-c", "echo hi"]', "ENTRYPOINT /bin/run --fast"]);
  assert.deepEqual(config.Cmd, ["sh", "-c", "echo hi"]);
  assert.deepEqual(config.Entrypoint, ["/bin/sh", "-c", "/bin/run --fast"]);
});

Deno.test("applyChanges() merges ENV, LABEL, EXPOSE and VOLUME, and sets the rest", () => {
  const config = applyChanges({ Env: ["PATH=/bin", "A=0"] }, [
    'ENV A=1 B="two words"',
    "env LEGACY some value",
    'LABEL org.x="y z" k=v',
    "EXPOSE 80 53/udp",
    'VOLUME ["/data"]',
    "USER nobody",
    "WORKDIR /srv",
    "WORKDIR app",
    "STOPSIGNAL SIGINT",
  ]);
  assert.deepEqual(config.Env, ["PATH=/bin", "A=1", "B=two words", "LEGACY=some value"]);
  assert.deepEqual(config.Labels, { "org.x": "y z", k: "v" });
  assert.deepEqual(config.ExposedPorts, { "80/tcp": {}, "53/udp": {} });
  assert.deepEqual(config.Volumes, { "/data": {} });
  assert.equal(config.User, "nobody");
  assert.equal(config.WorkingDir, "/srv/app");
  assert.equal(config.StopSignal, "SIGINT");
});

Deno.test("applyChanges() refuses instructions --change does not take, and malformed ones", () => {
  assert.throws(
    () => applyChanges({}, ["RUN echo"]),
    (e) => e instanceof InvalidError && e.message === "RUN is not a valid change command",
  );
  assert.throws(() => applyChanges({}, ["EXPOSE http"]), InvalidError);
  assert.throws(() => applyChanges({}, ["ENV ONLYKEY"]), InvalidError);
  assert.throws(() => splitWords('a "b'), InvalidError);
});
