import assert from "node:assert/strict";
import {
  filterLogs,
  LogWriter,
  parseLogLine,
  readLogChunk,
  utcNanoTime,
} from "./container_logs.ts";
import { findConmon } from "./container_conmon.ts";

Deno.test("k8s-file lines as conmon writes them: whole and partial lines, offsets to UTC", () => {
  assert.deepEqual(parseLogLine("2026-12-08T01:29:12.379077135+00:00 stdout F hello world"), {
    log: "hello world\n",
    stream: "stdout",
    time: "2026-12-08T01:29:12.379077135Z",
  });
  assert.deepEqual(parseLogLine("2026-12-08T03:29:12.5+02:00 stderr P part"), {
    log: "part",
    stream: "stderr",
    time: "2026-12-08T01:29:12.500000000Z",
  });
  // An empty line: conmon writes nothing after the tag.
  assert.equal(parseLogLine("2026-12-08T01:29:12.000000001Z stdout F")?.log, "\n");
  assert.equal(utcNanoTime("yesterday"), undefined);
  assert.equal(parseLogLine("2026-12-08T01:29:12Z stdin F x"), undefined);
  assert.equal(parseLogLine("garbage"), undefined);
});

Deno.test("json-file lines of an older berth are still read", () => {
  const line = JSON.stringify({ log: "old\n", stream: "stderr", time: "2024-01-01T00:00:00Z" });
  assert.deepEqual(parseLogLine(line), {
    log: "old\n",
    stream: "stderr",
    time: "2024-01-01T00:00:00Z",
  });
});

Deno.test("a foreground run's log reads back line by line; --since/--until/--tail filter it", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/c.log`;
    const w = new LogWriter(path);
    w.write("stdout", new TextEncoder().encode("one\ntw"));
    w.write("stderr", new TextEncoder().encode("err\n"));
    w.write("stdout", new TextEncoder().encode("o\nthree"));
    w.close();
    const { entries, offset } = readLogChunk(path);
    assert.deepEqual(entries.map((e) => [e.stream, e.log]), [
      ["stdout", "one\n"],
      ["stderr", "err\n"],
      ["stdout", "two\n"],
      ["stdout", "three"],
    ]);
    assert.equal(offset, Deno.statSync(path).size);
    assert.deepEqual(filterLogs(entries, { tail: 1 }).map((e) => e.log), ["three"]);
    const t = Date.parse(entries[0]!.time);
    assert.equal(filterLogs(entries, { until: t }).length, 0);
    assert.equal(filterLogs(entries, { since: t }).length, 4);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a missing conmon is named, with how to get it", () => {
  assert.throws(
    () => findConmon({ search: [], path: "/nonexistent" }),
    /^EngineError: conmon is not installed: berth needs it to supervise detached containers \(install the "conmon" package/,
  );
  assert.throws(
    () => findConmon({ given: "/nonexistent/conmon" }),
    /BERTH_CONMON=\/nonexistent\/conmon is not an executable file/,
  );
});
