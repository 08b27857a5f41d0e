/**
 * `berth info` and `berth system info`: what `docker info` reports that
 * scripts read (ServerVersion, Driver, DockerRootDir, CgroupVersion,
 * CgroupDriver, SecurityOptions, container and image counts,
 * OperatingSystem, NCPU, MemTotal), in Docker's field names for `--format`
 * and Docker's layout for people.
 *
 * @module
 */
import { INSPECT_FLAGS } from "./_format.ts";
import { type Command, str } from "./_command.ts";
import { containerService } from "./_service.ts";
import { Engine } from "../engine/engine.ts";
import { bytesSize } from "./_units.ts";
import { VERSION } from "./mod.ts";
import { goArch } from "./version.ts";

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** `PRETTY_NAME` of /etc/os-release, as Docker's OperatingSystem. */
export function operatingSystem(osRelease = readText("/etc/os-release")): string {
  const fields: Record<string, string> = {};
  for (const line of (osRelease ?? "").split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) fields[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return fields.PRETTY_NAME ?? fields.NAME ?? "<unknown>";
}

/** MemTotal of /proc/meminfo, in bytes. */
function memTotal(): number {
  const m = /^MemTotal:\s+(\d+) kB/m.exec(readText("/proc/meminfo") ?? "");
  return m ? Number(m[1]) * 1024 : 0;
}

/** `docker info`'s data (Docker's `system.Info` field names). */
export async function infoData(
  ctx: { root: string; runRoot: string; self: string[]; debug: boolean },
): Promise<Record<string, unknown>> {
  const containers = await containerService(ctx).list();
  const running = containers.filter((c) => c.State.Running && !c.State.Paused).length;
  const paused = containers.filter((c) => c.State.Paused).length;
  const images = Engine.open(ctx.root).listImages().length;
  const cgroupV2 = readText("/sys/fs/cgroup/cgroup.controllers") !== undefined;
  const securityOptions = ["name=seccomp,profile=builtin"];
  if (cgroupV2) securityOptions.push("name=cgroupns");
  return {
    ID: "",
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: containers.length - running - paused,
    Images: images,
    Driver: "overlay2",
    DriverStatus: [["Backing Filesystem", backingFs(ctx.root)]],
    LoggingDriver: "json-file",
    CgroupDriver: "cgroupfs",
    CgroupVersion: cgroupV2 ? "2" : "1",
    KernelVersion: Deno.osRelease(),
    OperatingSystem: operatingSystem(),
    OSVersion: osVersion(),
    OSType: Deno.build.os,
    Architecture: Deno.build.arch,
    NCPU: navigator.hardwareConcurrency,
    MemTotal: memTotal(),
    DockerRootDir: ctx.root,
    Name: Deno.hostname(),
    ServerVersion: VERSION,
    Debug: ctx.debug,
    Experimental: false,
    LiveRestoreEnabled: false,
    SecurityOptions: securityOptions,
    DefaultRuntime: "berth",
    Runtimes: { berth: { path: "berth runtime" } },
    Isolation: "",
    InitBinary: "",
    ClientInfo: { Version: VERSION, Arch: goArch(), Os: Deno.build.os, Context: "default" },
  };
}

function osVersion(): string {
  const m = /^VERSION_ID=["']?([^"'\n]*)/m.exec(readText("/etc/os-release") ?? "");
  return m?.[1] ?? "";
}

/** The filesystem the root lives on, as Docker's overlay2 "Backing Filesystem". */
function backingFs(root: string): string {
  const mounts = (readText("/proc/self/mounts") ?? "").split("\n").map((l) => l.split(" "));
  let best = { len: -1, type: "<unknown>" };
  for (const [, point, type] of mounts) {
    if (point === undefined || type === undefined) continue;
    const p = point.replaceAll("\\040", " ");
    if ((root === p || root.startsWith(p.endsWith("/") ? p : `${p}/`)) && p.length > best.len) {
      best = { len: p.length, type: type === "ext4" ? "extfs" : type };
    }
  }
  return best.type;
}

function human(i: Record<string, unknown>): string {
  const so = (i.SecurityOptions as string[]).map((o) => {
    const kv = Object.fromEntries(o.split(",").map((p) => p.split("=") as [string, string]));
    const name = kv.name ?? o;
    return `  ${name}\n` +
      (kv.profile ? `   Profile: ${kv.profile === "default" ? "builtin" : kv.profile}\n` : "");
  }).join("");
  const ci = i.ClientInfo as Record<string, string>;
  return "Client:\n" +
    ` Version:    ${ci.Version}\n` +
    ` Context:    default\n` +
    ` Debug Mode: ${i.Debug}\n` +
    "\n" +
    "Server:\n" +
    ` Containers: ${i.Containers}\n` +
    `  Running: ${i.ContainersRunning}\n` +
    `  Paused: ${i.ContainersPaused}\n` +
    `  Stopped: ${i.ContainersStopped}\n` +
    ` Images: ${i.Images}\n` +
    ` Server Version: ${i.ServerVersion}\n` +
    ` Storage Driver: ${i.Driver}\n` +
    (i.DriverStatus as string[][]).map(([k, v]) => `  ${k}: ${v}\n`).join("") +
    ` Logging Driver: ${i.LoggingDriver}\n` +
    ` Cgroup Driver: ${i.CgroupDriver}\n` +
    ` Cgroup Version: ${i.CgroupVersion}\n` +
    ` Default Runtime: ${i.DefaultRuntime}\n` +
    ` Security Options:\n${so}` +
    ` Kernel Version: ${i.KernelVersion}\n` +
    ` Operating System: ${i.OperatingSystem}\n` +
    ` OSType: ${i.OSType}\n` +
    ` Architecture: ${i.Architecture}\n` +
    ` CPUs: ${i.NCPU}\n` +
    ` Total Memory: ${bytesSize(i.MemTotal as number)}\n` +
    ` Name: ${i.Name}\n` +
    ` Docker Root Dir: ${i.DockerRootDir}\n` +
    ` Debug Mode: ${i.Debug}\n` +
    ` Experimental: ${i.Experimental}\n` +
    ` Live Restore Enabled: ${i.LiveRestoreEnabled}\n`;
}

/** `info [OPTIONS]` (and `system info`) */
export const info: Command = {
  usage: "[OPTIONS]",
  summary: "Display system-wide information",
  args: { max: 0 },
  flags: INSPECT_FLAGS,
  async run(ctx, flags) {
    const data = await infoData(ctx);
    const format = str(flags, "format");
    if (format !== undefined && format !== "") {
      const { parseFormat, renderTemplate } = await import("./_template.ts");
      ctx.print(`${renderTemplate(parseFormat(format).template, data)}\n`);
      return 0;
    }
    ctx.print(human(data));
    return 0;
  },
};
