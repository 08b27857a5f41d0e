/**
 * Parses single Dockerfile instructions of the kind `import --change` and
 * `commit --change` take (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD,
 * STOPSIGNAL, USER, VOLUME, WORKDIR), and applies them to an image's config.
 *
 * @module
 */
import { InvalidError } from "../errors.ts";
import type { ContainerConfig } from "../image/mod.ts";

/** The instructions `--change` accepts, as Docker. */
export const CHANGE_INSTRUCTIONS = [
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "LABEL",
  "ONBUILD",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
] as const;

/** A parsed instruction: its keyword and the raw rest of the line. */
export interface Instruction {
  keyword: string;
  rest: string;
}

/**
 * Splits `KEYWORD rest` (the keyword is case-insensitive).
 * @throws {InvalidError} on an empty line
 */
export function parseInstruction(line: string): Instruction {
  const match = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(line);
  if (match === null) throw new InvalidError(`Invalid instruction: "${line}"`);
  return { keyword: match[1]!.toUpperCase(), rest: (match[2] ?? "").trim() };
}

/** The JSON (exec) form `["a","b"]`, or undefined when `rest` is not one. */
export function parseJsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith("[")) return undefined;
  try {
    const value: unknown = JSON.parse(rest);
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  } catch {
    // shell form after all
  }
  return undefined;
}

/** Splits words honouring double and single quotes and backslashes, as Docker's ENV/LABEL do. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new InvalidError(`Unterminated quote in "${text}"`);
  if (inWord) words.push(word);
  return words;
}

/** Parses `k=v k2="v 2"` or the legacy `k v w` form into pairs. */
export function parseKeyValues(keyword: string, rest: string): [string, string][] {
  const words = splitWords(rest);
  if (words.length === 0) throw new InvalidError(`${keyword} requires at least one argument`);
  if (!words[0]!.includes("=")) {
    // legacy form: ENV key value with spaces
    const space = rest.search(/\s/);
    if (space < 0) throw new InvalidError(`${keyword} must have two arguments`);
    return [[rest.slice(0, space), rest.slice(space).trim()]];
  }
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq <= 0) throw new InvalidError(`${keyword} names can not be blank: "${word}"`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

/** CMD/ENTRYPOINT/... value: the JSON form as is, the shell form through `/bin/sh -c`. */
function commandValue(rest: string, shell: string[]): string[] {
  return parseJsonArray(rest) ?? [...shell, rest];
}

/**
 * Applies `--change` lines to a container config (returns a new object).
 * @throws {InvalidError} for an instruction `--change` does not take or a malformed one
 */
export function applyChanges(
  config: ContainerConfig,
  changes: readonly string[],
): ContainerConfig {
  const out: ContainerConfig = structuredClone(config);
  const shell = out.Shell ?? ["/bin/sh", "-c"];
  for (const change of changes) {
    const { keyword, rest } = parseInstruction(change);
    switch (keyword) {
      case "CMD":
        out.Cmd = commandValue(rest, shell);
        break;
      case "ENTRYPOINT":
        out.Entrypoint = commandValue(rest, shell);
        break;
      case "ENV": {
        const env = [...(out.Env ?? [])];
        for (const [key, value] of parseKeyValues(keyword, rest)) {
          const at = env.findIndex((e) => e.split("=")[0] === key);
          if (at >= 0) env[at] = `${key}=${value}`;
          else env.push(`${key}=${value}`);
        }
        out.Env = env;
        break;
      }
      case "LABEL":
        out.Labels = {
          ...(out.Labels ?? {}),
          ...Object.fromEntries(parseKeyValues(keyword, rest)),
        };
        break;
      case "EXPOSE": {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const port of splitWords(rest)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(port)) {
            throw new InvalidError(`Invalid port in EXPOSE: "${port}"`);
          }
          ports[port.includes("/") ? port : `${port}/tcp`] = {};
        }
        out.ExposedPorts = ports;
        break;
      }
      case "VOLUME": {
        const vols = { ...(out.Volumes ?? {}) };
        for (const v of parseJsonArray(rest) ?? splitWords(rest)) vols[v] = {};
        out.Volumes = vols;
        break;
      }
      case "USER":
        out.User = rest;
        break;
      case "WORKDIR":
        out.WorkingDir = rest.startsWith("/")
          ? rest
          : `${out.WorkingDir ?? "/"}/${rest}`.replace(/\/+/g, "/");
        break;
      case "STOPSIGNAL":
        out.StopSignal = rest;
        break;
      case "ONBUILD":
        out.OnBuild = [...(out.OnBuild ?? []), rest];
        break;
      default:
        throw new InvalidError(`${keyword} is not a valid change command`);
    }
  }
  return out;
}
