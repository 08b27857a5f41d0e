/**
 * The stamp of berth's security defaults in a container's config.json, in a
 * module of its own so that `exec` can tell an up-to-date container without
 * loading container_create.ts.
 *
 * @module
 */

/**
 * The config.json annotation naming the revision of berth's security
 * defaults it holds (bump SECURITY_REVISION when they change, e.g. a newer
 * Docker profile), so that start and exec bring older ones up to date.
 */
export const SECURITY_DEFAULTS = "org.berth.security-defaults";
/** This berth's revision of its security defaults. */
export const SECURITY_REVISION = "1";
/** How the annotation reads in config.json as berth writes it (JSON.stringify, 2 spaces). */
const SECURITY_STAMP = `"${SECURITY_DEFAULTS}": "${SECURITY_REVISION}"`;

/** Whether config.json's text holds this berth's security defaults already. */
export function hasCurrentSecurityDefaults(configText: string): boolean {
  return configText.includes(SECURITY_STAMP);
}
