/**
 * `berth logout [SERVER]`: remove the credentials `login` saved in berth's
 * config.json (Docker Hub's when no server is named).
 *
 * @module
 */
import { authKey, DOCKER_HUB_AUTH_KEY, RegistryConfig } from "../engine/mod.ts";
import type { Command } from "./_command.ts";

/** `logout [SERVER]` */
export const logout: Command = {
  usage: "[SERVER]",
  summary: "Log out from a registry",
  args: { max: 1 },
  flags: [],
  run(ctx, _flags, args) {
    const key = authKey(args[0] ?? DOCKER_HUB_AUTH_KEY);
    const removed = RegistryConfig.load().removeAuth(key);
    ctx.print(removed ? `Removing login credentials for ${key}\n` : `Not logged in to ${key}\n`);
    return Promise.resolve(0);
  },
};
