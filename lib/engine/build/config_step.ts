/**
 * The instructions that change only the image config (ENV, CMD, LABEL...):
 * how each updates the config, and the history text (`created_by`) Docker's
 * BuildKit records for it.
 *
 * @module
 */
import type { Instr } from "../../build/dockerfile/mod.ts";
import type { ContainerConfig } from "../../image/mod.ts";
import { InvalidError } from "../../errors.ts";

/** Go's `%q` of a string list (`["/bin/sh" "-c" "x"]`), as BuildKit prints commands. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(" ")}]`;
}

/** Docker's default shell. */
export const DEFAULT_SHELL: readonly string[] = ["/bin/sh", "-c"];

/** A command of CMD/ENTRYPOINT/RUN as argv: the exec form, or the shell with the script. */
export function commandArgs(
  command: { form: "exec"; args: string[] } | { form: "shell"; script: string },
  shell: readonly string[],
): string[] {
  return command.form === "exec" ? [...command.args] : [...shell, command.script];
}

/** Whether an instruction only changes the config. */
export function isConfigOnly(keyword: string): boolean {
  return [
    "ENV",
    "CMD",
    "ENTRYPOINT",
    "LABEL",
    "EXPOSE",
    "VOLUME",
    "USER",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
    "ONBUILD",
    "MAINTAINER",
  ].includes(keyword);
}

/**
 * Applies a config-only instruction (already expanded) to `config`, and
 * returns its history text.
 * @param author set for MAINTAINER
 */
export function applyConfigInstr(
  config: ContainerConfig,
  instr: Instr,
  author: { value?: string },
): string {
  const shell = config.Shell ?? DEFAULT_SHELL;
  switch (instr.keyword) {
    case "ENV": {
      const env = [...(config.Env ?? [])];
      for (const { key, value } of instr.pairs) {
        const at = env.findIndex((e) => e.slice(0, e.indexOf("=")) === key);
        if (at >= 0) env[at] = `${key}=${value}`;
        else env.push(`${key}=${value}`);
      }
      config.Env = env;
      return `ENV ${instr.pairs.map(({ key, value }) => `${key}=${value}`).join(" ")}`;
    }
    case "LABEL": {
      config.Labels = { ...(config.Labels ?? {}) };
      for (const { key, value } of instr.pairs) config.Labels[key] = value;
      return `LABEL ${instr.pairs.map(({ key, value }) => `${key}=${value}`).join(" ")}`;
    }
    case "CMD": {
      config.Cmd = commandArgs(instr.command, shell);
      if (instr.command.form === "shell") config.ArgsEscaped = true;
      return `CMD ${goQuoteList(config.Cmd)}`;
    }
    case "ENTRYPOINT": {
      config.Entrypoint = commandArgs(instr.command, shell);
      // Docker drops an inherited CMD when ENTRYPOINT is set (a CMD after it sets one again).
      config.Cmd = null;
      if (instr.command.form === "shell") config.ArgsEscaped = true;
      return `ENTRYPOINT ${goQuoteList(config.Entrypoint)}`;
    }
    case "EXPOSE": {
      config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
      const added: string[] = [];
      for (const raw of instr.ports) {
        for (const port of normalizePorts(raw)) {
          config.ExposedPorts[port] = {};
          added.push(port);
        }
      }
      return `EXPOSE map[${added.sort().map((p) => `${p}:{}`).join(" ")}]`;
    }
    case "VOLUME": {
      config.Volumes = { ...(config.Volumes ?? {}) };
      for (const path of instr.paths) config.Volumes[path] = {};
      return `VOLUME [${instr.paths.join(" ")}]`;
    }
    case "USER":
      config.User = instr.value;
      return `USER ${instr.value}`;
    case "STOPSIGNAL":
      config.StopSignal = instr.value;
      return `STOPSIGNAL ${instr.value}`;
    case "MAINTAINER":
      author.value = instr.value;
      return `MAINTAINER ${instr.value}`;
    case "SHELL":
      config.Shell = [...instr.shell];
      // BuildKit prints the list with Go's %v: `SHELL [/bin/bash -c]`.
      return `SHELL [${instr.shell.join(" ")}]`;
    case "ONBUILD":
      config.OnBuild = [...(config.OnBuild ?? []), instr.expression];
      return `ONBUILD ${instr.expression}`;
    case "HEALTHCHECK": {
      const hc: NonNullable<ContainerConfig["Healthcheck"]> = { Test: [...instr.test] };
      if (instr.interval) hc.Interval = instr.interval;
      if (instr.timeout) hc.Timeout = instr.timeout;
      if (instr.startPeriod) hc.StartPeriod = instr.startPeriod;
      if (instr.startInterval) hc.StartInterval = instr.startInterval;
      if (instr.retries) hc.Retries = instr.retries;
      config.Healthcheck = hc;
      return `HEALTHCHECK ${instr.original.replace(/^\S+\s+/, "")}`;
    }
    default:
      throw new TypeError(`${instr.keyword} is not a config-only instruction`);
  }
}

/** `80` -> `80/tcp`, `8000-8002/udp` -> each port; checks them as Docker does. */
function normalizePorts(raw: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(raw);
  const first = Number(m?.[1]);
  const last = m?.[2] === undefined ? first : Number(m[2]);
  if (m === null || first > 65535 || last > 65535 || last < first) {
    throw new InvalidError(`invalid containerPort: ${raw.split("/")[0]}`);
  }
  const proto = (m[3] ?? "tcp").toLowerCase();
  const out: string[] = [];
  for (let port = first; port <= last; port++) out.push(`${port}/${proto}`);
  return out;
}
