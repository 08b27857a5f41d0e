/**
 * Test-only: runs `container __healthd` for `ROOT RUN_ROOT` from this
 * checkout, whether or not the command table names it yet.
 */
import { healthd } from "../lib/cli/_healthd.ts";
import { REPO } from "./_helpers.ts";

const [root, runRoot] = Deno.args;
const self = [
  Deno.execPath(),
  "run",
  "-A",
  "--quiet",
  "--no-prompt",
  "--config",
  `${REPO}deno.json`,
  `${REPO}main.ts`,
];
const code = await healthd.run(
  {
    root: root!,
    runRoot: runRoot!,
    debug: false,
    self,
    print: () => {},
    printErr: () => {},
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
    stdinIsTerminal: false,
  },
  {},
  [],
);
Deno.exit(code);
